# %% [markdown]
# # Interpretation: what the best Fashion-MNIST CNN gets wrong, and what it sees
#
# **Description:** confusion matrices, the most confused classes, one class's
# errors in depth, feature maps at several depths, a t-SNE map of the learned
# embeddings, and the expected error rate in production (seed 002 Part 3,
# seed 003's error analysis). The model is loaded from the cache, never trained here.

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
import pandas as pd

from helpers import interpret

# %% [markdown]
# ## Prepare the data and load the model
#
# The tuned CNN of notebook 06, trained on 48 000 Fashion-MNIST images; here
# it only predicts. The file's SHA-256 is checked against its manifest entry
# before loading.

# %%
(x_full, y_full), (x_test_raw, y_test), class_names = hp.load_dataset("fashion_mnist")
(x_train, y_train_onehot), _ = hp.train_val_split(hp.rescale_images(x_full), hp.one_hot(y_full), val_fraction=0.2, seed=0)
x_test = hp.rescale_images(x_test_raw)
model_name = "fashion_cnn_tuned"
model, history = hp.load_cached(model_name)
model.summary()

# %% [markdown]
# ## Evaluate: test accuracy

# %%
probabilities = model.predict(x_test, batch_size=512, verbose=0)
y_pred = probabilities.argmax(axis=1)
test_accuracy = float(np.mean(y_pred == y_test))
tta_accuracy = float(np.mean(hp.predict_tta(model, x_test).argmax(1) == y_test))
print(f"test accuracy {test_accuracy:.4f} ({int(np.sum(y_pred != y_test))} errors in {len(y_test)}); "
      f"with flip test-time augmentation {tta_accuracy:.4f}")

# %% [markdown]
# ## Confusion matrix, counts and row-normalised

# %%
hp.plot_confusion_matrix(y_test, y_pred, class_names, title="Tuned Fashion-MNIST CNN, test set (counts)");

# %%
hp.plot_confusion_matrix(y_test, y_pred, class_names, normalize=True,
                         title="Tuned Fashion-MNIST CNN, test set (share of each true class)");

# %%
confused = interpret.most_confused_pairs(y_test, y_pred, class_names)
confused.round(3)

# %%
answer_confusion = """ANSWER_CONFUSION"""
hp.check_answer(answer_confusion, max_chars=500)

# %% [markdown]
# ## One class in depth: shirts
#
# "Shirt" is the class with the most errors. All test shirts the model gets
# wrong, with the predicted class and its confidence, most confident first.

# %%
focus = class_names.index("Shirt")
wrong = np.flatnonzero((y_test == focus) & (y_pred != focus))
wrong = wrong[np.argsort(-probabilities[wrong].max(axis=1))]
print(f"{len(wrong)} of {np.sum(y_test == focus)} test shirts are misclassified; predicted as:")
print(pd.Series([class_names[i] for i in y_pred[wrong]]).value_counts().to_string())

# %%
hp.plot_misclassified(x_test, y_test, probabilities, class_names, indices=wrong, max_images=18);

# %%
confidence = pd.DataFrame({
    "correct shirts": pd.Series(probabilities[(y_test == focus) & (y_pred == focus)].max(1)).describe(),
    "misclassified shirts": pd.Series(probabilities[wrong].max(1)).describe(),
})
confidence.round(3)

# %%
answer_shirts = """ANSWER_SHIRTS"""
hp.check_answer(answer_shirts, max_chars=500)

# %% [markdown]
# ## Feature maps of the first test image
#
# The activations of every filter of convolution layers at three depths for
# the first test image.

# %%
hp.plot_images([x_test[0]], [f"first test image: {class_names[y_test[0]]}"]);

# %%
conv_names = interpret.conv_layer_names(model)
chosen_layers = [conv_names[0], conv_names[len(conv_names) // 2], conv_names[-1]]
feature_maps = interpret.layer_outputs(model, chosen_layers, x_test[:1])
print({name: maps.shape[1:] for name, maps in zip(chosen_layers, feature_maps)})

# %%
for name, maps in zip(chosen_layers, feature_maps):
    hp.plot_feature_maps(maps[0], title=f"{name}: {maps.shape[-1]} feature maps of {maps.shape[1]}x{maps.shape[2]}")

# %%
answer_activations = """ANSWER_ACTIVATIONS"""
hp.check_answer(answer_activations, max_chars=500)

# %% [markdown]
# ## Embeddings of the training images, mapped with t-SNE
#
# The 256 ReLU activations of the last hidden layer (before the classifier) for
# 5 000 random training images, reduced to two dimensions with scikit-learn's
# t-SNE. The map is cached with the model's SHA-256, so a re-run loads it.

# %%
sample = np.random.default_rng(0).choice(len(x_train), size=min(5000, len(x_train)), replace=False)
embedding_layer = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Activation)][-1]
(embeddings,) = interpret.layer_outputs(model, [embedding_layer], x_train[sample])
points = interpret.cached_tsne("fashion_cnn_tuned_train5000", embeddings,
                               model_sha256=hp.manifest(model_name)["files"]["model"]["sha256"])
print(embedding_layer, embeddings.shape, "->", points.shape)

# %%
hp.plot_embedding(points, y_train_onehot[sample], class_names,
                  title="t-SNE of the CNN's 256-d embeddings (5 000 training images)");

# %%
answer_tsne = """ANSWER_TSNE"""
hp.check_answer(answer_tsne, max_chars=500)

# %% [markdown]
# ## Expected false classifications in production (seed 003)
#
# The test error rate, scaled to 10 000 images, with a 95 % Wilson interval
# for the uncertainty of measuring it on 10 000 test images.

# %%
production = pd.DataFrame({
    label: hp.expected_errors(acc, len(y_test))
    for label, acc in (("tuned CNN", test_accuracy), ("tuned CNN + flip TTA", tta_accuracy))}).T
production.round(0)

# %%
answer_production = """ANSWER_PRODUCTION"""
hp.check_answer(answer_production, max_sentences=3)

# %% [markdown]
# ## Seed 002 Part 3 on SVHN: model_2_2
#
# Seed 002 asks for the same analysis of its augmented SVHN ConvNet
# (`model_2_2` from notebook 06); it runs when SVHN and that model are present.

# %%
svhn = hp.try_load_dataset("svhn", would_run="confusion matrices, confused pairs and feature maps of model_2_2")
if svhn is not None:
    try:
        svhn_model, _ = hp.load_cached("model_2_2")
    except hp.CacheError as err:
        print(f"model_2_2 is not cached ({err}); train it in notebook 06 first.")
        svhn_model = None
    if svhn_model is not None:
        (x_s, y_s), (x_s_test, y_s_test), svhn_classes = svhn
        splits = hp.svhn_seed_split(np.concatenate([x_s, x_s_test]), np.concatenate([y_s, y_s_test]), seed=1)
        x_s_eval = hp.rgb2gray(splits["test"][0]) / 255
        s_pred = svhn_model.predict(x_s_eval, verbose=0)
        hp.plot_confusion_matrix(splits["test"][1], s_pred, svhn_classes, normalize=True, title="model_2_2 on SVHN")
        display(interpret.most_confused_pairs(splits["test"][1], s_pred.argmax(1), svhn_classes))
        s_conv = interpret.conv_layer_names(svhn_model)
        for name, maps in zip(s_conv[::2], interpret.layer_outputs(svhn_model, s_conv[::2], x_s_eval[:1])):
            hp.plot_feature_maps(maps[0], title=f"model_2_2 {name}")

# %% [markdown]
# ## Takeaways
#
# TAKEAWAYS
