# %% [markdown]
# # The network that sucks: a broken CNN diagnosed and fixed
#
# **Description:** seed 001's warm-up network for 100x100 RGB images, its five
# worst choices measured one at a time on real digits, and a fixed network
# trained on the same images.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data: digits as 100x100 RGB images](#Prepare-the-data:-digits-as-100x100-RGB-images)
# 3. [Build: the network that sucks (seed 001 warm-up)](#Build:-the-network-that-sucks-%28seed-001-warm-up%29)
# 4. [Train: the network that sucks (Grudges 2 and 3)](#Train:-the-network-that-sucks-%28Grudges-2-and-3%29)
# 5. [Train: the fixed network](#Train:-the-fixed-network)
# 6. [Evaluate: broken vs fixed network](#Evaluate:-broken-vs-fixed-network)
# 7. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers


# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in
stop_training = False  # True: grading, only load cached results, never train

# %%
hp.start_notebook(student, stop_training=stop_training)

# %% [markdown]
# ## Prepare the data: digits as 100x100 RGB images
#
# The network expects 100x100 RGB images, so MNIST digits are scaled to
# 100x100 and copied into three channels: 2 000 for training, 500 held out.

# %%
mnist = hp.image_splits("mnist")


# %%
def to_100x100_rgb(images: np.ndarray) -> np.ndarray:
    return np.repeat(tf.image.resize(images, (100, 100)).numpy(), 3, axis=-1)


# %%
x_big_train, y_big_train = to_100x100_rgb(mnist["train"][0][:2000]), mnist["train"][1][:2000]
x_big_val, y_big_val = to_100x100_rgb(mnist["val"][0][:500]), mnist["val"][1][:500]
print(x_big_train.shape, x_big_val.shape)

# %% [markdown]
# ## Build: the network that sucks (seed 001 warm-up)
#
# Seed 001's network, rebuilt with switches for its worst choices so that
# each can be measured on its own.


# %%
def build_warmup_net(
    *, zero_init: bool = True, hidden_activation: str = "softmax", dropout_after_output: bool = True
) -> keras.Sequential:
    init = "zeros" if zero_init else "he_normal"
    model = keras.Sequential([keras.Input((100, 100, 3))], name="warmup_net")
    for filters in (512, 128, 32):
        model.add(layers.Conv2D(filters, 3, kernel_initializer=init, activation="relu"))
    model.add(layers.MaxPooling2D(6))
    for _ in range(2):
        model.add(layers.Conv2D(8, 10, padding="same", kernel_initializer="random_normal", activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Flatten())
    model.add(layers.Dense(512, activation=hidden_activation))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(512, activation=hidden_activation))
    model.add(layers.Dense(10, activation="sigmoid"))
    if dropout_after_output:
        model.add(layers.Dropout(0.5))
    return model


# %%
warmup_net = build_warmup_net()
warmup_net.summary()

# %% [markdown]
# ### Grudge 1: the size of the first layers
#
# Parameters and multiply-adds per layer for one image. A 3x3 filter on an RGB
# image has only 27 weights, so 512 such filters cannot all be different
# directions in a 27-dimensional space; and the 512 -> 128 convolution on a
# 96x96 map alone costs billions of operations per image.


# %%
warmup_costs = hp.layer_costs(warmup_net)
warmup_costs

# %% [markdown]
# ## Train: the network that sucks (Grudges 2 and 3)
#
# ### Grudges 2 and 3: zero initialisation and softmax hidden layers
#
# The network is trained for two epochs on 64 of the digits (a longer run
# cannot change the outcome measured below).


# %%
def make_warmup_net(**switches) -> keras.Model:
    model = build_warmup_net(**switches)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model


# %%
warmup_trained, warmup_history = hp.fit_cached(
    "warmup_network_that_sucks",
    make_warmup_net,
    x_big_train[:64],
    y_big_train[:64],
    validation_data=(x_big_val[:64], y_big_val[:64]),
    epochs=2,
    batch_size=16,
    seed=0,
    exercise="seed 001",
)

# %%
distinct_filters = {}
for layer in warmup_trained.layers[:3]:
    kernel = layer.kernel.numpy()
    distinct_filters[layer.name] = len(np.unique(kernel.reshape(-1, kernel.shape[-1]).T, axis=0))
    print(f"{layer.name}: max |weight| = {np.abs(kernel).max():.1e}, distinct filters = {distinct_filters[layer.name]}")

# %%
probabilities = warmup_trained.predict(x_big_val[:64], verbose=0)
predicted_classes = np.unique(probabilities.argmax(1))
print("spread of the predictions across 64 different images:", float(probabilities.std(axis=0).max()))
print("predicted class for every image:", predicted_classes)

# %% [markdown]
# Every convolution filter is still exactly zero after training: with zero
# weights every filter computes the same thing (zero), the ReLU's gradient at
# zero is zero, and so no filter ever receives a gradient. The network's
# output is the same for every image.
#
# With He initialisation instead, the softmax hidden layers are next: a
# 512-way softmax squeezes its outputs to sum to one, so almost all units
# are near zero, and the gradient reaching the first convolution shrinks.


# %%
def first_layer_gradient_norm(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    with tf.GradientTape() as tape:
        loss = keras.losses.categorical_crossentropy(y, model(x, training=False))
    return float(tf.norm(tape.gradient(loss, model.layers[0].kernel)))


# %%
probe_x, probe_y = x_big_val[:16], y_big_val[:16]
gradient_norms = {}
for hidden in ("softmax", "relu"):
    keras.utils.set_random_seed(0)
    net = build_warmup_net(zero_init=False, hidden_activation=hidden, dropout_after_output=False)
    hidden_out = keras.Model(net.inputs[0], net.layers[-4].output)(probe_x).numpy()
    gradient_norms[hidden] = first_layer_gradient_norm(net, probe_x, probe_y)
    print(
        f"hidden {hidden:7s}: largest hidden activation {hidden_out.max():.4f}, "
        f"mean {hidden_out.mean():.4f}, gradient norm at conv 1 {gradient_norms[hidden]:.2e}"
    )

# %% [markdown]
# ### Grudge 4: what the 10x10 convolutions see
#
# After three 3x3 convolutions and a 6x6 pooling the map is only 15x15, and a
# 10x10 'same' convolution on it mostly looks at zero padding.


# %%
def padding_fraction(size: int, kernel: int) -> float:
    """Average share of a 'same'-padded kernel window that falls outside the map."""
    before = (kernel - 1) // 2
    inside = [min(i - before + kernel, size) - max(i - before, 0) for i in range(size)]
    return 1 - np.mean(np.outer(inside, inside)) / kernel**2


# %%
map_size = warmup_net.layers[3].output.shape[1]
print(
    f"the 10x10 convolutions see a {map_size}x{map_size} map; "
    f"{padding_fraction(map_size, 10):.0%} of their window is zero padding on average"
)
print("features left for the dense layers:", warmup_net.layers[7].output.shape[1:])

# %% [markdown]
# ### Grudge 5: sigmoid output followed by dropout
#
# Ten independent sigmoids are not a probability distribution, and dropout
# after them zeroes half of the outputs during training (and doubles the
# rest), so the "probabilities" the loss sees are garbage.

# %%
keras.utils.set_random_seed(0)
net = build_warmup_net(zero_init=False, hidden_activation="relu")
for training in (False, True):
    out = net(probe_x, training=training).numpy()
    print(
        f"training={training!s:5}: outputs sum to {out.sum(1).min():.2f}..{out.sum(1).max():.2f}, "
        f"{np.mean(out == 0):.0%} exactly zero, largest {out.max():.2f}"
    )

# %% [markdown]
# ## Train: the fixed network
#
# He initialisation, few small filters at first and more deeper in, 3x3
# kernels throughout with 2x2 pooling, ReLU hidden layers, global average
# pooling, dropout before (not after) a softmax output. It is trained on the
# 2 000 digits and validated on the 500 others.


# %%
def make_fixed_warmup_net() -> keras.Model:
    """The network that sucks, fixed: for 100x100 RGB digits, 10 softmax outputs, compiled."""
    ### BEGIN SOLUTION
    model = keras.Sequential([keras.Input((100, 100, 3))], name="fixed_warmup_net")
    for filters in (32, 64, 128):
        model.add(layers.Conv2D(filters, 3, activation="relu", kernel_initializer="he_normal"))
        model.add(layers.MaxPooling2D(2))
    model.add(layers.Conv2D(128, 3, activation="relu", kernel_initializer="he_normal"))
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
    ### END SOLUTION


# %%
fixed_warmup, fixed_warmup_history = hp.fit_cached(
    "warmup_fixed_network",
    make_fixed_warmup_net,
    x_big_train,
    y_big_train,
    validation_data=(x_big_val, y_big_val),
    epochs=8,
    batch_size=32,
    seed=0,
    exercise="seed 001",
)

# %% grade_id="test_fixed_network"
# Test (seed 001): the fixed network takes the 100x100 RGB digits, starts from non-zero weights and learns.
with hp.keep_keras_names():  # later models keep their automatic names
    test_model = make_fixed_warmup_net()
    assert test_model.input_shape == (None, 100, 100, 3) and test_model.output_shape == (None, 10), (
        "100x100x3 in, 10 out"
    )
    assert all(np.any(w != 0) for w in test_model.get_weights()[::2]), "no layer starts with all-zero weights"
    assert (
        fixed_warmup_history["loss"][-1] < fixed_warmup_history["loss"][0] or len(fixed_warmup_history["loss"]) == 1
    ), "the fixed network's training loss falls"

# %% [markdown]
# ## Evaluate: broken vs fixed network

# %%
hp.plot_histories(
    {"network that sucks (64 images)": warmup_history, "fixed network (2000 images)": fixed_warmup_history},
    title="Seed 001 warm-up: broken vs fixed network on 100x100 digits",
)
# %%
warmup_table = pd.DataFrame(
    {
        "network that sucks": {
            "parameters": warmup_trained.count_params(),
            "best val accuracy": max(warmup_history["val_accuracy"]),
        },
        "fixed network": {
            "parameters": fixed_warmup.count_params(),
            "best val accuracy": max(fixed_warmup_history["val_accuracy"]),
        },
    }
).T
warmup_table

# %% [markdown]
# ## Takeaways

# %%
hp.show_takeaways(
    f"Zero-initialised convolutions stay all zero: {', '.join(map(str, distinct_filters.values()))} distinct "
    f"filters in the first three layers, and the network predicts "
    + ("the same class for all 64 images." if len(predicted_classes) == 1 else f"{len(predicted_classes)} classes."),
    f"Softmax hidden layers shrink the gradient reaching the first convolution to {gradient_norms['softmax']:.0e} "
    f"({gradient_norms['relu']:.1f} with ReLU).",
    f"Broken, the network reaches {warmup_table.loc['network that sucks', 'best val accuracy']:.1%} validation "
    f"accuracy; fixed, {warmup_table.loc['fixed network', 'best val accuracy']:.1%} on the same 100x100 digits, "
    f"with {warmup_table.loc['fixed network', 'parameters'] / warmup_table.loc['network that sucks', 'parameters']:.0%} "
    "of the parameters.",
)
