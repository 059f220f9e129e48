# %% [markdown]
# # Regularization: L2, dropout, augmentation and a hyperparameter search
#
# **Description:** a two-hidden-layer network on Fashion-MNIST overfits; we
# measure what L2 penalties, dropout, data augmentation and a keras-tuner
# search do about it (seed 000, Exercise 5). Seed 002's regularized SVHN
# model is in notebook 12.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data](#Prepare-the-data)
# 3. [Build: two hidden layers of h = 128 units (Exercise 5.1)](#Build:-two-hidden-layers-of-h-%3D-128-units-%28Exercise-5.1%29)
# 4. [Train: the unregularized network for 150 epochs (Exercises 5.1 and 5.2)](#Train:-the-unregularized-network-for-150-epochs-%28Exercises-5.1-and-5.2%29)
# 5. [Train: L2 penalties on the kernels, lambda = 1 and lambda = 0.001 (Exercise 5.3)](#Train:-L2-penalties-on-the-kernels,-lambda-%3D-1-and-lambda-%3D-0.001-%28Exercise-5.3%29)
# 6. [Train: dropout 0.5 and 0.05 after every hidden layer (Exercise 5.4)](#Train:-dropout-0.5-and-0.05-after-every-hidden-layer-%28Exercise-5.4%29)
# 7. [Train: data augmentation with Keras preprocessing layers (Exercise 5.5, bonus)](#Train:-data-augmentation-with-Keras-preprocessing-layers-%28Exercise-5.5,-bonus%29)
# 8. [Train: a keras-tuner search over width, depth, dropout and learning rate](#Train:-a-keras-tuner-search-over-width,-depth,-dropout-and-learning-rate)
# 9. [Train: the best dense network](#Train:-the-best-dense-network)
# 10. [Evaluate: every attempt compared (Exercise 5.6)](#Evaluate:-every-attempt-compared-%28Exercise-5.6%29)
# 11. [Evaluate: the goal](#Evaluate:-the-goal)
# 12. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import functools
import keras
import keras_tuner
import numpy as np
import pandas as pd

from helpers import tuning

# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in
stop_training = False  # True: grading, only load cached results, never train

# %%
hp.start_notebook(student, stop_training=stop_training)

# %% [markdown]
# ## Prepare the data
#
# Images stay 28x28x1 in [0, 1] (the dense models flatten them inside, so
# the same arrays also feed the augmentation layers). 20 % of the training
# set is the validation set; the test set is only used at the end.

# %%
fashion = hp.image_splits("fashion_mnist")
(x_train, y_train), (x_val, y_val), (x_test, y_test) = fashion["train"], fashion["val"], fashion["test"]
image_shape = x_train.shape[1:]
print(x_train.shape, x_val.shape, x_test.shape)

# %% [markdown]
# ## Build: two hidden layers of h = 128 units (Exercise 5.1)

# %%
width = 128
depth = 2


# %%
def make_regularized_mlp(
    width: int,
    depth: int,
    *,
    l2: float = 0.0,
    dropout: float = 0.0,
    augmentation=None,
    image_shape: tuple[int, ...] = (28, 28, 1),
) -> keras.Model:
    """`depth` hidden ReLU layers of `width` units with optional L2, dropout and augmentation; Adam."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(
        image_shape, [width] * depth, l2=l2, dropout=dropout, augmentation=augmentation, name="mlp_2x128"
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
make_regularized_mlp(width, depth).summary()

# %% grade_id="test_regularized_mlp"
# Test (Exercise 5.1): at least two hidden layers of 50 to 200 units; L2 and dropout reach every hidden layer.
with hp.keep_keras_names():  # later models keep their automatic names
    test_dense = [layer for layer in make_regularized_mlp(width, depth).layers if isinstance(layer, keras.layers.Dense)]
    test_hidden = [layer.units for layer in test_dense[:-1]]
    assert len(test_hidden) >= 2 and all(50 <= u <= 200 for u in test_hidden), f"hidden widths {test_hidden}"
    test_l2 = [
        layer for layer in make_regularized_mlp(width, depth, l2=0.001).layers if isinstance(layer, keras.layers.Dense)
    ]
    assert all(layer.kernel_regularizer is not None for layer in test_l2[:-1]), "l2 > 0 puts a penalty on every kernel"
    test_drop = [
        layer
        for layer in make_regularized_mlp(width, depth, dropout=0.5).layers
        if isinstance(layer, keras.layers.Dropout)
    ]
    assert len(test_drop) >= depth and all(d.rate == 0.5 for d in test_drop), "dropout after every hidden layer"

# %% [markdown]
# ## Train: the unregularized network for 150 epochs (Exercises 5.1 and 5.2)

# %%
epochs = 150
batch_size = 128


fit_settings = {"validation_data": (x_val, y_val), "epochs": epochs, "batch_size": batch_size, "seed": 0}


# %%
def train_variant(name: str, exercise: str, data: tuple, fit_settings: dict, **model_args) -> dict:
    """Train (or load) `make_regularized_mlp(**model_args)` on `data` = (x, y) for `exercise`; return its history."""
    build = functools.partial(make_regularized_mlp, **model_args)
    return hp.fit_cached(f"ex5_{name}", build, *data, **fit_settings, exercise=exercise, return_model=False)[1]


# %%
mlp_size = {"width": width, "depth": depth}
# The unregularized network, under histories["no regularization"].
### BEGIN SOLUTION
histories = {"no regularization": train_variant("plain", "5.1", (x_train, y_train), fit_settings, **mlp_size)}
### END SOLUTION

# %% grade_id="test_plain_run"
# Test (Exercise 5.1): trained for at least 150 epochs.
assert len(histories["no regularization"]["loss"]) >= hp.required_epochs(150), "train for at least 150 epochs"

# %%
hp.plot_history(histories["no regularization"], "Fashion-MNIST, 2x128 ReLU, no regularization")
# %%
pd.Series(hp.best_metrics(histories["no regularization"])).round(4)

# %% [markdown]
# ### Answer to Exercise 5.2 (max 1 sentence)


# %%
def gap(history: dict) -> float:
    """Training minus validation accuracy at the last epoch, in points."""
    return (history["accuracy"][-1] - history["val_accuracy"][-1]) * 100


# %%
plain = hp.best_metrics(histories["no regularization"])
plain_history = histories["no regularization"]
growth = plain_history["val_loss"][-1] / plain["best_val_loss"]
answer_5_2 = ""  # your answer
### BEGIN SOLUTION
answer_5_2 = (
    f"{'Yes' if gap(plain_history) > 2 else 'Hardly'}: after epoch {plain['best_val_loss_epoch']} the validation loss "
    f"grows {growth:.1f}-fold (to {plain_history['val_loss'][-1]:.3f}) while the training accuracy climbs to "
    f"{plain['final_train_accuracy']:.2%}, {gap(plain_history):.1f} points above the validation accuracy "
    f"(best {plain['best_val_accuracy']:.2%})."
)
### END SOLUTION
hp.check_answer(answer_5_2, max_sentences=1)

# %% [markdown]
# ## Train: L2 penalties on the kernels, lambda = 1 and lambda = 0.001 (Exercise 5.3)

# %%
# A run for lambda = 1 and one for 0.001, under histories["L2 lambda=1.0"] and histories["L2 lambda=0.001"].
### BEGIN SOLUTION
for l2 in (1.0, 0.001):
    histories[f"L2 lambda={l2}"] = train_variant(f"l2_{l2}", "5.3", (x_train, y_train), fit_settings, **mlp_size, l2=l2)
### END SOLUTION

# %% grade_id="test_l2_runs"
# Test (Exercise 5.3): both penalties trained as long as the unregularized network.
for test_key in ("L2 lambda=1.0", "L2 lambda=0.001"):
    assert test_key in histories, f"no run {test_key!r} in histories"
    assert len(histories[test_key]["loss"]) >= hp.required_epochs(150), f"{test_key}: at least 150 epochs"

# %%
hp.plot_histories(
    {k: histories[k] for k in ("no regularization", "L2 lambda=1.0", "L2 lambda=0.001")},
    title="L2 penalties on the kernels",
)
# %% [markdown]
# ### Answer to Exercise 5.3 (max 2 sentences)

# %%
strong, mild = histories["L2 lambda=1.0"], histories["L2 lambda=0.001"]
collapsed = max(strong["val_accuracy"]) < 0.2
answer_5_3 = ""  # your answer
### BEGIN SOLUTION
answer_5_3 = (
    (
        f"With lambda = 1 the weight penalty dominates the cross-entropy, so Adam shrinks every weight towards zero and "
        f"the network predicts the same for every image ({strong['val_accuracy'][-1]:.2%} validation accuracy, loss "
        f"stuck at {strong['val_loss'][-1]:.4f}; ln 10 = {np.log(10):.4f}). "
        if collapsed
        else f"With lambda = 1 the validation accuracy reaches only {max(strong['val_accuracy']):.2%}. "
    )
    + f"With lambda = 0.001 the final train-validation gap {'shrinks' if gap(mild) < gap(plain_history) else 'grows'} "
    f"from {gap(plain_history):.1f} to {gap(mild):.2f} points, but the best validation accuracy "
    f"({max(mild['val_accuracy']):.2%}) is "
    f"{'slightly below' if max(mild['val_accuracy']) < plain['best_val_accuracy'] else 'above'} the unregularized "
    f"{plain['best_val_accuracy']:.2%}: the penalty also limits how closely the network can fit."
)
### END SOLUTION
hp.check_answer(answer_5_3, max_sentences=2)

# %% [markdown]
# ## Train: dropout 0.5 and 0.05 after every hidden layer (Exercise 5.4)

# %%
# Without L2: dropout 0.5 and 0.05, under histories["dropout 0.5"] and histories["dropout 0.05"].
### BEGIN SOLUTION
for rate in (0.5, 0.05):
    histories[f"dropout {rate}"] = train_variant(
        f"dropout_{rate}", "5.4", (x_train, y_train), fit_settings, **mlp_size, dropout=rate
    )
### END SOLUTION

# %% grade_id="test_dropout_runs"
# Test (Exercise 5.4): both dropout rates trained as long as the unregularized network.
for test_key in ("dropout 0.5", "dropout 0.05"):
    assert test_key in histories, f"no run {test_key!r} in histories"
    assert len(histories[test_key]["loss"]) >= hp.required_epochs(150), f"{test_key}: at least 150 epochs"

# %%
hp.plot_histories(
    {k: histories[k] for k in ("no regularization", "dropout 0.5", "dropout 0.05")},
    title="Dropout on the hidden layers",
)
# %% [markdown]
# ### Answer to Exercise 5.4 (max 2 sentences)

# %%
half, light = histories["dropout 0.5"], histories["dropout 0.05"]
answer_5_4 = ""  # your answer
### BEGIN SOLUTION
answer_5_4 = (
    f"Dropout 0.5 {'is the most effective regularizer of these' if gap(half) < gap(mild) else 'regularizes'}: the best "
    f"validation accuracy is {max(half['val_accuracy']):.2%}, the final train-validation gap only {gap(half):.1f} points "
    f"and the validation loss stays near its minimum ({min(half['val_loss']):.3f} at best, {half['val_loss'][-1]:.3f} "
    f"at the end). Dropout 0.05 peaks at {max(light['val_accuracy']):.2%} (epoch "
    f"{int(np.argmax(light['val_accuracy'])) + 1}) but then overfits (final gap {gap(light):.1f} points, validation "
    f"loss up to {light['val_loss'][-1]:.3f}), so it only pays off with early stopping."
)
### END SOLUTION
hp.check_answer(answer_5_4, max_sentences=2)

# %% [markdown]
# ## Train: data augmentation with Keras preprocessing layers (Exercise 5.5, bonus)
#
# Augmentation layers sit inside the model and only act during training.
# Clothing photographed from the front is left-right symmetric, so a
# horizontal flip gives another valid garment; small shifts mimic imperfect
# centring. Digits are different: a mirrored 2, 3, 7 or 9 is not a digit.

# %%
clothing_augmentation = hp.make_augmentation(flip=True, translate=0.1)
augmented = clothing_augmentation(np.repeat(x_train[:1], 6, axis=0), training=True)
hp.plot_images([x_train[0], *np.asarray(augmented)], ["original"] + ["augmented"] * 6)
# %%
(x_mnist, y_mnist), _, _ = hp.load_dataset("mnist")
flip_only = hp.make_augmentation(flip=True)
digits = hp.rescale_images(x_mnist[:6])
hp.plot_images(
    [*digits, *np.asarray(flip_only(digits, training=True))],
    [f"digit {d}" for d in y_mnist[:6]] + ["flipped?"] * 6,
    ncols=6,
)
# %%
# The network with augmentation layers, under histories["augment: flip + shift 10 %"].
### BEGIN SOLUTION
histories["augment: flip + shift 10 %"] = train_variant(
    "augment_flip_shift",
    "5.5",
    (x_train, y_train),
    fit_settings,
    **mlp_size,
    augmentation=hp.make_augmentation(flip=True, translate=0.1),
)
### END SOLUTION

# %% grade_id="test_augmentation_run"
# Test (Exercise 5.5): the augmented run trained as long as the unregularized network.
assert "augment: flip + shift 10 %" in histories, "no augmented run in histories"
assert len(histories["augment: flip + shift 10 %"]["loss"]) >= hp.required_epochs(150), "at least 150 epochs"

# %%
hp.plot_histories(
    {k: histories[k] for k in ("no regularization", "augment: flip + shift 10 %")},
    title="Augmentation (horizontal flip and 10 % shifts) on Fashion-MNIST",
)
# %% [markdown]
# **Measured: flips hurt digits.** The same 2x128 network on MNIST, 30 epochs,
# with and without random horizontal flips (validation images are not flipped).

# %%
(x_m_train, y_m_train), (x_m_val, y_m_val) = hp.train_val_split(
    hp.rescale_images(x_mnist), hp.one_hot(y_mnist), val_fraction=0.2, seed=0
)
mnist_settings = {**fit_settings, "validation_data": (x_m_val, y_m_val), "epochs": 30}
flip_runs = {}
for label, aug in (("MNIST, no augmentation", None), ("MNIST, horizontal flips", hp.make_augmentation(flip=True))):
    name = "mnist_flip" if aug is not None else "mnist_noflip"
    flip_runs[label] = train_variant(name, "5.5", (x_m_train, y_m_train), mnist_settings, **mlp_size, augmentation=aug)
hp.runs_table([{"run": k, "history": h} for k, h in flip_runs.items()]).set_index("run").round(4)

# %% [markdown]
# ### Answer to Exercise 5.5 (max 2 sentences)

# %%
augmented_run = histories["augment: flip + shift 10 %"]
mnist_best = {k: max(h["val_accuracy"]) for k, h in flip_runs.items()}
answer_5_5 = ""  # your answer
### BEGIN SOLUTION
answer_5_5 = (
    f"Random horizontal flips plus 10 % shifts shrink the final train-validation gap on Fashion-MNIST from "
    f"{gap(plain_history):.1f} to {gap(augmented_run):.1f} points; the best validation accuracy is "
    f"{max(augmented_run['val_accuracy']):.2%} against {plain['best_val_accuracy']:.2%}, as a 2x128 dense network "
    f"has little capacity left for the variety. The same flips on MNIST "
    f"{'lower' if mnist_best['MNIST, horizontal flips'] < mnist_best['MNIST, no augmentation'] else 'change'} "
    f"the best validation accuracy from {mnist_best['MNIST, no augmentation']:.2%} to "
    f"{mnist_best['MNIST, horizontal flips']:.2%}, since a mirrored digit is no digit, or another one."
)
### END SOLUTION
hp.check_answer(answer_5_5, max_sentences=2)

# %% [markdown]
# ## Train: a keras-tuner search over width, depth, dropout and learning rate
#
# Seed 002 tried keras-tuner and gave up. Here: a random search of 10
# configurations (at most 20 epochs each, early stopping on the validation
# loss). The trials are stored in `histories/tuner/`, so a re-run reloads them.


# %%
def build_tunable_mlp(hp_: "keras_tuner.HyperParameters", image_shape: tuple[int, ...] = (28, 28, 1)) -> keras.Model:
    depth_ = hp_.Int("depth", 1, 3)
    width_ = hp_.Choice("width", [128, 256, 512, 1024])
    dropout_ = hp_.Choice("dropout", [0.0, 0.2, 0.3, 0.5])
    learning_rate = hp_.Choice("learning_rate", [1e-3, 3e-4])
    model = hp.build_mlp(image_shape, [width_] * depth_, dropout=dropout_, name="tuned_mlp")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


# %%
tuner = tuning.random_search(
    "fashion_dense",
    build_tunable_mlp,
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    max_trials=10,
    epochs=20,
    batch_size=batch_size,
)
tuning.trials_table(tuner)

# %%
best_hp = tuner.get_best_hyperparameters(1)[0].values
print("best configuration:", best_hp)

# %% [markdown]
# ## Train: the best dense network
#
# The search's best configuration, trained longer (100 epochs, keeping the
# epoch with the best validation accuracy), once as found and once with the
# clothing augmentation from above.


# %%
def make_best_dense(best_hp: dict, augmentation=None, image_shape: tuple[int, ...] = (28, 28, 1)) -> keras.Model:
    """The tuner's best configuration `best_hp` (width, depth, dropout, learning_rate), optionally augmented."""
    model = hp.build_mlp(
        image_shape,
        [best_hp["width"]] * best_hp["depth"],
        dropout=best_hp["dropout"],
        augmentation=augmentation,
        name="best_dense",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=best_hp["learning_rate"]),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


# %%
def keep_best_epoch(patience: int) -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping("val_accuracy", mode="max", patience=patience, restore_best_weights=True)


# %%
best_dense = {}
best_fit = {"batch_size": batch_size, "test_data": (x_test, y_test), "seed": 0, "exercise": "5.6"}
dense_augmentations = {"tuned": None, "tuned + augmentation": hp.make_augmentation(flip=True, translate=0.1)}
for label, aug in dense_augmentations.items():
    best_dense[label] = hp.fit_cached(
        hp.DENSE_RUNS[label],
        lambda: make_best_dense(best_hp, aug),
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=100,
        callbacks=[keep_best_epoch(20)],
        **best_fit,
    )
    histories[label] = best_dense[label][1]

# %% [markdown]
# ### Smoother training: cosine decay and weight averaging
#
# Two cheap changes to the same network. The learning rate decays from 0.001
# to zero along a cosine over 60 epochs, so the last epochs take small steps;
# and the optimizer keeps an exponential moving average of the weights
# (Polyak averaging, `use_ema=True`, momentum 0.999: about the last 1 000
# steps, under three epochs), which smooths out the noise that dropout and
# small batches put into the weights. `SwapEMAWeights` evaluates the averaged
# weights on the validation set after every epoch; they are the weights kept.


# %%
def make_best_dense_ema(
    best_hp: dict, epochs: int, steps_per_epoch: int, image_shape: tuple[int, ...] = (28, 28, 1)
) -> keras.Model:
    """`best_hp`'s network with a cosine-decayed learning rate and weight averaging (EMA)."""
    model = hp.build_mlp(
        image_shape, [best_hp["width"]] * best_hp["depth"], dropout=best_hp["dropout"], name="best_dense_ema"
    )
    schedule = keras.optimizers.schedules.CosineDecay(best_hp["learning_rate"], decay_steps=epochs * steps_per_epoch)
    optimizer = keras.optimizers.Adam(learning_rate=schedule, use_ema=True, ema_momentum=0.999)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model


# %%
ema_epochs = 60
steps_per_epoch = int(np.ceil(len(x_train) / batch_size))
best_dense["tuned + cosine + EMA"] = hp.fit_cached(
    hp.DENSE_RUNS["tuned + cosine + EMA"],
    lambda: make_best_dense_ema(best_hp, ema_epochs, steps_per_epoch),
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=ema_epochs,
    callbacks=[keras.callbacks.SwapEMAWeights()],
    **best_fit,
)
histories["tuned + cosine + EMA"] = best_dense["tuned + cosine + EMA"][1]

# %%
hp.plot_histories({k: h for k, (_, h) in best_dense.items()}, title="Best dense configuration")
# %% [markdown]
# The table reports, besides the best epoch, the validation accuracy of the
# weights each run keeps (the best epoch's for the first two, the averaged
# final weights for the third): that is what the next step chooses on.

# %%
best_dense_table = pd.DataFrame(
    {
        label: {
            **hp.best_metrics(history),
            "val accuracy of kept weights": model.evaluate(x_val, y_val, verbose=0)[1],
            "test accuracy": model.evaluate(x_test, y_test, verbose=0)[1],
        }
        for label, (model, history) in best_dense.items()
    }
).T
best_dense_table.round(4)

# %% [markdown]
# ### The final dense model: all 60 000 training images
#
# The validation set chose the configuration (the row with the best
# validation accuracy of its kept weights) and the number of epochs (the best
# validation epoch, or the whole schedule for the averaged run). As a last
# step that network is trained on all training images for that many epochs,
# and the test set is evaluated once with its final weights.

# %%
final_dense_label = best_dense_table["val accuracy of kept weights"].idxmax()
x_train_all, y_train_all = np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])
if final_dense_label == "tuned + cosine + EMA":
    final_dense_epochs = ema_epochs
    steps_per_epoch_all = int(np.ceil(len(x_train_all) / batch_size))
    make_final_dense = lambda: make_best_dense_ema(best_hp, ema_epochs, steps_per_epoch_all)  # noqa: E731
else:
    final_dense_epochs = hp.best_metrics(best_dense[final_dense_label][1])["best_val_accuracy_epoch"]
    make_final_dense = lambda: make_best_dense(best_hp, dense_augmentations[final_dense_label])  # noqa: E731
print(f"chosen on validation: {final_dense_label}, {final_dense_epochs} epochs")

# %%
final_dense_name = "ex5_best_dense_all_training_data"
final_dense, final_dense_history = hp.fit_cached(
    final_dense_name,
    make_final_dense,
    x_train_all,
    y_train_all,
    epochs=final_dense_epochs,
    **best_fit,
)
print(
    f"{final_dense_label}, {final_dense_epochs} epochs on all training images: "
    f"test accuracy {final_dense.evaluate(x_test, y_test, verbose=0)[1]:.4f}"
)

# %% [markdown]
# ## Evaluate: every attempt compared (Exercise 5.6)

# %%
comparison = hp.runs_table([{"attempt": k, "history": h} for k, h in histories.items()]).set_index("attempt")
comparison["overfitting gap (train - val, last epoch)"] = [
    h["accuracy"][-1] - h["val_accuracy"][-1] for h in histories.values()
]
comparison.sort_values("best_val_accuracy", ascending=False).round(4)

# %% [markdown]
# ### Answer to Exercise 5.6 (max 2 sentences)

# %%
ranked = comparison["best_val_accuracy"].sort_values(ascending=False)
final_test = final_dense.evaluate(x_test, y_test, verbose=0)[1]
aug_label = "tuned + augmentation"
answer_5_6 = ""  # your answer
### BEGIN SOLUTION
answer_5_6 = (
    f"{'Yes, a little' if ranked.iloc[0] - plain['best_val_accuracy'] < 0.03 else 'Yes'}: the best validation accuracy "
    f"rose from {plain['best_val_accuracy']:.2%} without regularization to {ranked.iloc[0]:.2%} ({ranked.index[0]}), "
    f"and the chosen network retrained on all {len(x_train_all):,} images scores {final_test:.2%} on the test set. "
    "The gains are small because regularization only trims overfitting; the real limit is a dense network that "
    f"cannot reuse what it learns across positions (augmentation: {comparison.loc[aug_label, 'best_val_accuracy']:.2%}"
    + (
        ", and it then underfits)."
        if histories[aug_label]["accuracy"][-1] < comparison.loc[aug_label, "best_val_accuracy"]
        else ")."
    )
)
### END SOLUTION
hp.check_answer(answer_5_6, max_sentences=2)

# %% [markdown]
# ## Evaluate: the goal
#
# The best dense networks against the suite's goal, on the test set:

# %%
dense_goal_rows = {
    "tuned (keras-tuner)": hp.headline(hp.DENSE_RUNS["tuned"]),
    "tuned + cosine + EMA": hp.headline(hp.DENSE_RUNS["tuned + cosine + EMA"]),
    f"final: {final_dense_label}, all training images": hp.headline(final_dense_name),
}
hp.goals_table("fashion_dense", dense_goal_rows)

# %% [markdown]
# ## Takeaways

# %%
tuned_row, ema_row = best_dense_table.loc["tuned"], best_dense_table.loc["tuned + cosine + EMA"]
hp.show_takeaways(
    f"Two hidden layers of {width} units overfit Fashion-MNIST: the validation loss grows {growth:.1f}-fold after "
    f"epoch {plain['best_val_loss_epoch']} while the training accuracy reaches {plain['final_train_accuracy']:.1%}.",
    f"An L2 penalty of 1 {'stops all learning' if collapsed else 'hurts'} ({max(strong['val_accuracy']):.0%} "
    "accuracy); 0.001 and dropout remove most of the train-validation gap but hardly raise the peak accuracy.",
    f"Flips and shifts suit clothing; flips hurt digits ({mnist_best['MNIST, no augmentation']:.2%} to "
    f"{mnist_best['MNIST, horizontal flips']:.2%} on MNIST).",
    f"A random search found {best_hp['depth']} layer(s) of {best_hp['width']} units with dropout {best_hp['dropout']}: "
    f"{tuned_row['best_val_accuracy']:.2%} validation and {tuned_row['test accuracy']:.2%} test accuracy.",
    f"Cosine decay plus weight averaging (EMA) moves the best validation accuracy to {ema_row['best_val_accuracy']:.2%} "
    f"(from {tuned_row['best_val_accuracy']:.2%}), and its final weights score {ema_row['val accuracy of kept weights']:.2%} "
    f"against {best_dense['tuned'][1]['val_accuracy'][-1]:.2%} for the tuned run's last epoch. Chosen on validation, "
    f"{final_dense_label} retrained on all {len(x_train_all):,} images reaches {final_test:.2%} on the test set.",
)
