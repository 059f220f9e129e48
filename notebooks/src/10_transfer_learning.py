# %% [markdown]
# # Transfer learning: ImageNet features for SVHN, and MNIST features for new digits
#
# **Description:** seed 002's VGG16 transfer to SVHN (runs where the ImageNet
# weights and SVHN are available), and a fully offline study of when a
# pretrained MNIST CNN helps on scikit-learn's handwritten digits.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data: SVHN and the ImageNet weights (seed 002, Part 4)](#Prepare-the-data:-SVHN-and-the-ImageNet-weights-%28seed-002,-Part-4%29)
# 3. [Build: a dense head on VGG16's frozen features (seed 002, Question 4.1)](#Build:-a-dense-head-on-VGG16's-frozen-features-%28seed-002,-Question-4.1%29)
# 4. [Train: the head on cached VGG16 features (Question 4.1)](#Train:-the-head-on-cached-VGG16-features-%28Question-4.1%29)
# 5. [Build: VGG16 with its last block fine-tuned, and DenseNet121 (Question 4.2)](#Build:-VGG16-with-its-last-block-fine-tuned,-and-DenseNet121-%28Question-4.2%29)
# 6. [Train: fine-tuning at a low learning rate (Question 4.2)](#Train:-fine-tuning-at-a-low-learning-rate-%28Question-4.2%29)
# 7. [Train: offline transfer from MNIST to other people's digits](#Train:-offline-transfer-from-MNIST-to-other-people's-digits)
# 8. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import functools

import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from helpers import transfer

# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in
stop_training = False  # True: grading, only load cached results, never train
train_imagenet = False  # True: train the ImageNet transfer models that are not cached; ./run.sh --train imagenet

# %%
hp.start_notebook(student, stop_training=stop_training)

# %% [markdown]
# ## Prepare the data: SVHN and the ImageNet weights (seed 002, Part 4)
#
# VGG16's convolutional base, pretrained on ImageNet, without its classifier.
# **4.1** keeps the base frozen. Because a frozen base never changes, it is
# run only once over the colour SVHN images and its 512 features per image
# are cached; the dense head then trains on the features in minutes instead
# of hours. **4.2** unfreezes VGG16's last block and fine-tunes it with a low
# learning rate, and compares DenseNet121 (33 MB of weights, accepts 32x32).
# This part needs SVHN and the ImageNet weights: `transfer.fetch_imagenet_weights`
# downloads them once into Keras' cache (`~/.keras/models`), from `IMGCLS_MIRROR`
# when a classroom sets one, and checks Keras' published checksums.

# %%
weights_ready = {name: transfer.fetch_imagenet_weights(name) is not None for name in transfer.APPLICATIONS}
print("ImageNet weights available:", weights_ready)
svhn = hp.try_load_dataset("svhn") if all(weights_ready.values()) else None
if not all(weights_ready.values()):
    print(
        "ImageNet transfer is skipped: the ImageNet weights cannot be had here (offline). With internet, or with "
        "IMGCLS_MIRROR set, this cell downloads them."
    )

# %%
if svhn is not None:
    (x_s, y_s), (x_s_test, y_s_test), _ = svhn
    svhn_splits = hp.svhn_seed_split(np.concatenate([x_s, x_s_test]), np.concatenate([y_s, y_s_test]), seed=1)
    (x_rgb_train, y_rgb_train), (x_rgb_val, y_rgb_val) = svhn_splits["train"], svhn_splits["val"]
    y_rgb_train, y_rgb_val = hp.one_hot(y_rgb_train), hp.one_hot(y_rgb_val)
    vgg_base = transfer.build_base("VGG16", (32, 32, 3))
    features_train = transfer.extract_features(
        "svhn_vgg16_train", vgg_base, transfer.preprocess_for("VGG16", x_rgb_train)
    )
    features_val = transfer.extract_features("svhn_vgg16_val", vgg_base, transfer.preprocess_for("VGG16", x_rgb_val))
    print("cached features:", features_train.shape, features_val.shape)


# %% [markdown]
# ## Build: a dense head on VGG16's frozen features (seed 002, Question 4.1)


# %%
def build_feature_head(input_dim: int = 512) -> keras.Model:
    """A dense classifier for VGG16's ``input_dim`` pooled features: 10 softmax outputs."""
    ### BEGIN SOLUTION
    model = hp.build_mlp(input_dim, [256], dropout=0.5, name="vgg16_feature_head")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
def build_model_4_1() -> keras.Model:
    """Seed 002's Question 4.1 model: the dense head on VGG16's 512 pooled features."""
    return build_feature_head(512)


# %% grade_id="test_feature_head"
# Test (Question 4.1): 512 features in, 10 class probabilities out.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = build_model_4_1()
    assert test_model.input_shape == (None, 512), f"input {test_model.input_shape}: VGG16's 512 pooled features"
    assert test_model.output_shape == (None, 10), f"output {test_model.output_shape}: 10 classes"


# %% [markdown]
# ## Train: the head on cached VGG16 features (Question 4.1)

# %%
head_epochs = 30
if svhn is not None:
    feature_split = (features_train, features_val, y_rgb_train, y_rgb_val)
    _, history_4_1 = hp.evaluate_or_plan(
        "model_4_1",
        build_model_4_1,
        feature_split,
        family="imagenet",
        train=train_imagenet,
        epochs=head_epochs,
        batch_size=256,
    )

# %%
if svhn is not None and history_4_1 is not None:
    best_4_1 = max(history_4_1["val_accuracy"])
    answer_q_4_1 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_4_1 = (
        "VGG16's frozen ImageNet base turns each colour crop into 512 pooled features, computed once and cached; a "
        f"256-unit head with dropout 0.5 learns the digits from them in {head_epochs} epochs. Best validation "
        f"accuracy {best_4_1:.1%} (final training accuracy {history_4_1['accuracy'][-1]:.1%}): features learnt on "
        "224x224 photographs keep little of a 32x32 digit after five poolings, so a frozen base is a weak start here."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_4_1, max_chars=800)

# %% [markdown]
# ## Build: VGG16 with its last block fine-tuned, and DenseNet121 (Question 4.2)


# %%
def build_model_4_2(application: str = "VGG16", unfreeze=("block5_",)) -> keras.Model:
    """``application``'s ImageNet base for 32x32x3 crops, its layers named in ``unfreeze`` trainable, a new
    10-way classifier on top, compiled with a low learning rate."""
    ### BEGIN SOLUTION
    base = transfer.build_base(application, (32, 32, 3))
    transfer.unfreeze_top(base, unfreeze)
    model = transfer.classifier_on(base, 10)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-5),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %% grade_id="test_model_4_2"
# Test (Question 4.2): part of the base is trainable, part frozen; 10 outputs (needs the ImageNet weights).
with hp.keep_keras_names():  # later models keep their automatic names
    if all(weights_ready.values()):
        test_model = build_model_4_2()
        test_trainable = [w for w in test_model.trainable_weights]
        assert test_model.output_shape == (None, 10), f"output {test_model.output_shape}: 10 classes"
        assert 0 < len(test_trainable) < len(test_model.weights), "fine-tune the top of the base, freeze the rest"


# %% [markdown]
# ## Train: fine-tuning at a low learning rate (Question 4.2)

# %%
tune_epochs = 10
if svhn is not None:
    vgg_split = tuple(transfer.preprocess_for("VGG16", x) for x in (x_rgb_train, x_rgb_val)) + (y_rgb_train, y_rgb_val)
    _, history_4_2 = hp.evaluate_or_plan(
        "model_4_2",
        build_model_4_2,
        vgg_split,
        family="imagenet",
        train=train_imagenet,
        epochs=tune_epochs,
        batch_size=128,
    )

# %%
if svhn is not None:
    dn_split = tuple(transfer.preprocess_for("DenseNet121", x) for x in (x_rgb_train, x_rgb_val))
    _, history_4_2_dn = hp.evaluate_or_plan(
        "model_4_2_densenet",
        build_model_4_2,
        dn_split + (y_rgb_train, y_rgb_val),
        family="imagenet",
        train=train_imagenet,
        epochs=tune_epochs,
        batch_size=128,
        application="DenseNet121",
        unfreeze=("conv5_block16",),
    )

# %%
if svhn is not None and None not in (history_4_1, history_4_2, history_4_2_dn):
    best_4_2, best_dn = max(history_4_2["val_accuracy"]), max(history_4_2_dn["val_accuracy"])
    answer_q_4_2 = ""  # your answer
    ### BEGIN SOLUTION
    answer_q_4_2 = (
        f"Unfreezing VGG16's last block and training at learning rate 1e-5 for {tune_epochs} epochs gives "
        f"{best_4_2:.1%} validation accuracy against {best_4_1:.1%} frozen ({(best_4_2 - best_4_1) * 100:+.1f} points): "
        "the top block adapts to digits while the low learning rate keeps the pretrained edges and textures. "
        f"DenseNet121 with its last dense block unfrozen reaches {best_dn:.1%}, "
        f"{'better' if best_dn > best_4_2 else 'worse'} than VGG16, with 33 MB of weights."
    )
    ### END SOLUTION
    hp.check_answer(answer_q_4_2, max_chars=800)

# %% [markdown]
# The building and freezing logic above is tested offline with random weights
# (`tests/test_transfer_interpret.py`): the frozen base has no trainable
# weights, `unfreeze_top(vgg, ["block5_"])` opens exactly `block5_conv1..3`, and
# training the head leaves the base's weights unchanged.

# %% [markdown]
# ## Train: offline transfer from MNIST to other people's digits
#
# **Source:** the best MNIST CNN of notebook 07 (trained on 48 000 MNIST
# digits, loaded from the cache). **Target:** scikit-learn's `load_digits`,
# 1 797 real 8x8 scans of digits by 43 other writers, 16 grey levels. To
# match MNIST's framing the 8x8 images are enlarged to 20x20 and centred in a
# 28x28 frame, as MNIST digits are. A real domain shift: other writers,
# another scanner, far lower resolution.

# %%
from sklearn.datasets import load_digits

digits = load_digits()
x_digits = tf.image.resize(digits.images[..., None] / 16.0, (20, 20), method="bilinear").numpy()
x_digits = np.pad(x_digits, ((0, 0), (4, 4), (4, 4), (0, 0))).astype(np.float32)
y_digits = hp.one_hot(digits.target)
print(x_digits.shape, np.bincount(digits.target))

# %%
hp.plot_images(
    [*digits.images[:6], *x_digits[:6]], [f"8x8: {d}" for d in digits.target[:6]] + ["as 28x28"] * 6, ncols=6
)
# %% [markdown]
# 30 % of the digits (stratified) are held out as the target test set. From
# the other 1 257, runs draw 20, 50, 100, 500 or all labelled examples
# (stratified), three seeds each.

# %%
(x_pool, y_pool), (x_target_test, y_target_test) = hp.train_val_split(x_digits, y_digits, val_fraction=0.3, seed=0)
label_budgets = [20, 50, 100, 500, len(x_pool)]
seeds = [0, 1, 2]


# %%
def labelled_subset(x_pool: np.ndarray, y_pool: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` labelled images drawn from the pool (stratified, by `seed`); the whole pool if `n` is at least its size."""
    if n >= len(x_pool):
        return x_pool, y_pool
    (_, _), (x_n, y_n) = hp.train_val_split(x_pool, y_pool, val_fraction=n / len(x_pool), seed=seed)
    return x_n, y_n


# %% [markdown]
# Three ways to train on n labelled target digits, all with the same
# architecture (the MNIST CNN's convolutional body plus a new 10-way softmax):
#
# * **scratch**: random initial weights, everything trained (learning rate 1e-3);
# * **frozen features**: MNIST weights, body frozen, only the new head trained (1e-3);
# * **fine-tuning**: MNIST weights, everything trained with a low learning rate (1e-4).
#
# The runs are short (a few hundred steps), so the batch-normalisation layers
# average their statistics with momentum 0.9 instead of Keras' default 0.99;
# the check after the grid shows why.

# %%
source_model, _ = hp.load_cached(hp.MNIST_CNN_AUG)
source_body = transfer.body_of(source_model, skip_input_layers=1, drop_last=1)  # no augmentation, no classifier
source_key = "pretrained:" + transfer.model_sha(hp.MNIST_CNN_AUG)[:16]
print([type(layer).__name__ for layer in source_body])


# %%
def make_target_model(source_body: keras.Model, method: str, bn_momentum: float = 0.9) -> keras.Model:
    """The source body (copied, MNIST weights unless `method` is "scratch") plus a new 10-way softmax."""
    ### BEGIN SOLUTION
    body = transfer.copy_body(
        source_body,
        (28, 28, 1),
        pretrained=method != "scratch",
        name="body_" + method.replace(" ", "_"),
        bn_momentum=bn_momentum,
    )
    body.trainable = method != "frozen features"
    model = keras.Sequential(
        [body, keras.layers.Dense(10, activation="softmax")], name="target_" + method.replace(" ", "_")
    )
    learning_rate = 1e-4 if method == "fine-tuning" else 1e-3
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
pd.DataFrame(
    {
        m: transfer.describe_trainable(make_target_model(source_body, m))
        for m in ("scratch", "frozen features", "fine-tuning")
    }
).T

# %% grade_id="test_target_model"
# Test (the offline transfer study): 10 outputs; "frozen features" trains only the new classifier, the others all.
with hp.keep_keras_names():  # later models keep their automatic names
    for test_method in ("scratch", "frozen features", "fine-tuning"):
        test_model = make_target_model(source_body, test_method)
        assert test_model.output_shape == (None, 10), f"{test_method}: output {test_model.output_shape}"
        test_frozen = len(test_model.trainable_weights) == 2  # only the new Dense layer's kernel and bias
        assert test_frozen == (test_method == "frozen features"), f"{test_method}: trainable weights wrong"

# %% [markdown]
# Every run takes about 300 gradient steps of batch 32 (at least 5 epochs),
# whatever n is, so small and large budgets get a comparable amount of
# optimisation. The target test set is only evaluated at the end of each run.


# %%
def epochs_for(n: int, steps: int = 300, batch_size: int = 32) -> int:
    return max(5, int(np.ceil(steps / np.ceil(n / batch_size))))


# %%
methods = ["scratch", "frozen features", "fine-tuning"]
transfer_fit = {  # every run: batch 32, the target test set, and the source model's checksum in the key
    "batch_size": 32,
    "test_data": (x_target_test, y_target_test),
    "data_key": source_key,
    "return_model": False,
    "keep_model": False,
    "verbose": 0,
    "exercise": "transfer, going further",
}

# %%
grid = [(method, n, seed) for method in methods for n in label_budgets for seed in seeds]
transfer_runs = {}
for method, n, seed in grid:
    x_n, y_n = labelled_subset(x_pool, y_pool, n, seed)
    build = functools.partial(make_target_model, source_body, method)
    name = f"transfer_{method.replace(' ', '_')}_n{n}_seed{seed}"
    transfer_runs[name] = {"build": build, "x": x_n, "y": y_n, "epochs": epochs_for(n), "seed": seed}

# %% [markdown]
# The runs are independent of each other, so `hp.train_runs` could train
# them on worker processes of one thread each, as `hp.run_sweep` does for
# notebook 04. On two cores that is faster (see the README's sweeps section),
# but one thread rounds the convolutions differently from the two threads
# these cached runs were trained with, so most results would change. The grid
# therefore trains in this process, as its cached runs did, unless an
# executor is given (`executor=client` for a Dask cluster, or
# `IMGCLS_DASK_SCHEDULER`).

# %%
hp.train_runs(transfer_runs, desc="transfer grid", local_processes=False, **transfer_fit)
runs = [
    {"method": method, "labelled examples": n, "seed": seed}
    | {"target test accuracy": hp.manifest(name)["metrics"]["test"]["accuracy"]}
    for (method, n, seed), name in zip(grid, transfer_runs)
]
transfer_table = pd.DataFrame(runs)

# %% [markdown]
# A reference without deep learning: multinomial logistic regression on the
# pixels of the same labelled subsets (scikit-learn, not cached). It runs on
# one BLAS thread: for problems this small, more threads cost more time than
# they save (several times more on two cores), and with one thread the scores
# do not depend on how many cores the machine has.

# %%
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

for n in label_budgets:
    for seed in seeds:
        x_n, y_n = labelled_subset(x_pool, y_pool, n, seed)
        with threadpool_limits(limits=1, user_api="blas"):
            pixels = LogisticRegression(max_iter=2000).fit(x_n.reshape(len(x_n), -1), y_n.argmax(1))
            pixel_accuracy = pixels.score(x_target_test.reshape(len(x_target_test), -1), y_target_test.argmax(1))
        runs.append(
            {
                "method": "pixels + logistic regression",
                "labelled examples": n,
                "seed": seed,
                "target test accuracy": pixel_accuracy,
            }
        )
transfer_table = pd.DataFrame(runs)

# %%
hp.plot_metric_vs_param(
    transfer_table,
    "labelled examples",
    ["target test accuracy"],
    group="method",
    title="Target accuracy vs number of labelled target digits",
)
# %%
summary = transfer_table.pivot_table(
    index="labelled examples", columns="method", values="target test accuracy", aggfunc="mean"
)
summary["best transfer - scratch"] = summary[["frozen features", "fine-tuning"]].max(axis=1) - summary["scratch"]
summary.round(4)

# %% [markdown]
# ### Why batch-normalisation momentum 0.9
#
# The same scratch run on all labelled digits, once with Keras' default
# momentum 0.99. At inference, batch normalisation uses moving averages of the
# batch statistics; after only a few hundred steps of a network whose weights
# still change fast, averages over the last ~100 steps (0.99) lag behind, over
# the last ~10 steps (0.9) they do not.

# %%
momentum_check = {}
for momentum in (0.99, 0.9):
    name = f"transfer_scratch_n{len(x_pool)}_seed0" + ("_bn099" if momentum == 0.99 else "")
    build = functools.partial(make_target_model, source_body, "scratch", bn_momentum=momentum)
    _, history = hp.fit_cached(name, build, x_pool, y_pool, epochs=epochs_for(len(x_pool)), seed=0, **transfer_fit)
    momentum_check[f"momentum {momentum}"] = {
        "final training accuracy": history["accuracy"][-1],
        "target test accuracy": hp.manifest(name)["metrics"]["test"]["accuracy"],
    }
momentum_table = pd.DataFrame(momentum_check).T
momentum_table.round(4)

# %% [markdown]
# ### When does transfer pay off, and why?

# %%
frozen, fine_tuned, scratch = (summary[method] for method in ("frozen features", "fine-tuning", "scratch"))
transfer_gain = summary["best transfer - scratch"]
scratch_weights = make_target_model(source_body, "scratch").count_params()
catch_up = min((n for n in label_budgets if transfer_gain[n] <= 0), default=None)
answer_transfer = ""  # your answer
### BEGIN SOLUTION
answer_transfer = (
    f"Transfer pays off when labels are scarce: with 20 labelled digits frozen MNIST features reach "
    f"{frozen[20]:.1%} against {scratch[20]:.1%} from scratch ({(frozen[20] - scratch[20]) * 100:+.1f} "
    f"points, mean of 3 seeds), {transfer_gain[50] * 100:+.1f} points at 50 and {transfer_gain[100] * 100:+.1f} at 100. "
    "The MNIST body already turns strokes into digit features, so the new head only learns 10 directions; from "
    f"scratch, about {scratch_weights / 1000:.0f} 000 weights memorise 20 images. Fine-tuning everything ({fine_tuned[20]:.1%} "
    "at 20) lets those few images pull the good features away. "
    + (
        f"From {catch_up} labels on, scratch catches up ({scratch[catch_up]:.1%} against {frozen[catch_up]:.1%} frozen "
        f"and {fine_tuned[catch_up]:.1%} fine-tuned): the target's own features can then be learnt, and features tuned "
        "to other writers and another scanner become the limit."
        if catch_up
        else f"Even with all labels transfer stays ahead: features learnt on MNIST beat those learnt from {len(x_pool):,}."
    )
)
### END SOLUTION
hp.check_answer(answer_transfer, max_chars=800)

# %% [markdown]
# ## Takeaways

# %%
pixels = summary["pixels + logistic regression"]
fine_at_20 = transfer_table.query("method == 'fine-tuning' and `labelled examples` == 20")["target test accuracy"]
fine_best_from = min((n for n in label_budgets if fine_tuned[n] >= frozen[n]), default=None)

# %%
hp.show_takeaways(
    f"Frozen MNIST features with a new softmax head reach {frozen[20]:.1%} on other writers' 8x8 digits from only 20 "
    f"labels, {(frozen[20] - scratch[20]) * 100:.0f} points above the same CNN from scratch; the lead is "
    f"{(frozen[100] - scratch[100]) * 100:.0f} points at 100 labels"
    + (
        f" and gone by {catch_up} (scratch {scratch[catch_up]:.1%}, frozen {frozen[catch_up]:.1%})."
        if catch_up
        else "."
    ),
    f"Fine-tuning the whole network at a low learning rate scores {fine_tuned[20]:.1%} at 20 labels (seeds between "
    f"{fine_at_20.min():.0%} and {fine_at_20.max():.0%})"
    + (f"; it is the best transfer method from {fine_best_from} labels on." if fine_best_from else "."),
    f"Keep a classical baseline: logistic regression on the pixels ({pixels[20]:.0%} at 20 labels, "
    f"{pixels[label_budgets[-1]]:.0%} with all) {'beats' if pixels[20] > scratch[20] else 'trails'} the from-scratch "
    "CNN at 20 labels.",
    "Short runs need fast batch-normalisation statistics: with Keras' default momentum 0.99 the from-scratch CNN on "
    f"all labels scores {momentum_table.loc['momentum 0.99', 'target test accuracy']:.1%} on the target test set "
    f"instead of {momentum_table.loc['momentum 0.9', 'target test accuracy']:.1%}.",
    "The ImageNet part (VGG16 features extracted once and cached, block 5 fine-tuned, DenseNet121 compared) runs as "
    "soon as the weights and SVHN are on the machine; its building and freezing logic is tested offline.",
)
