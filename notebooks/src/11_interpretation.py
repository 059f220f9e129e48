# %% [markdown]
# # Interpretation: what the final Fashion-MNIST CNN gets wrong, and what it sees
#
# **Description:** confusion matrices, the most confused classes, one class's
# errors in depth, feature maps at several depths, a t-SNE map of the learned
# embeddings, and the expected error rate in production (seed 003's error
# analysis; seed 002 asks the same of its SVHN ConvNet, in notebook 12). The
# model is loaded from the cache, never trained here.

# %% [markdown] tags=["contents"]
# **Contents**
#
# 1. [Setup](#Setup)
# 2. [Prepare the data and load the model](#Prepare-the-data-and-load-the-model)
# 3. [Evaluate: test accuracy](#Evaluate:-test-accuracy)
# 4. [Evaluate: confusion matrix, counts and row-normalised](#Evaluate:-confusion-matrix,-counts-and-row-normalised)
# 5. [Evaluate: one class in depth, the class with the most errors](#Evaluate:-one-class-in-depth,-the-class-with-the-most-errors)
# 6. [Evaluate: feature maps of the first test image](#Evaluate:-feature-maps-of-the-first-test-image)
# 7. [Evaluate: embeddings of the training images, mapped with t-SNE](#Evaluate:-embeddings-of-the-training-images,-mapped-with-t-SNE)
# 8. [Evaluate: expected false classifications in production (seed 003)](#Evaluate:-expected-false-classifications-in-production-%28seed-003%29)
# 9. [Takeaways](#Takeaways)

# %% [markdown]
# ## Setup

# %%
# %matplotlib inline
import helpers as hp  # first, so TensorFlow starts quietly
import keras
import numpy as np
import pandas as pd

from helpers import interpret


# %% tags=["parameters"]
student = ""  # your name and ID, e.g. "Ada Lovelace (s1234567)"; ./run.sh --student fills it in

# %%
hp.start_notebook(student)

# %% [markdown]
# ## Prepare the data and load the model
#
# Notebook 08's final Fashion-MNIST CNN (`hp.FASHION_CNN_FINAL`: the
# low-dropout recipe the search in `09_fashion_cnn_search` found, 48, 96 and 192
# filters computed in bfloat16), trained on 48 000 Fashion-MNIST images; here
# it only predicts. The file's SHA-256 is checked against its manifest entry
# before loading.

# %%
fashion = hp.image_splits("fashion_mnist")
x_train, y_train_onehot = fashion["train"]
x_test, y_test = fashion["test"][0], fashion["test"][1].argmax(axis=1)  # integer labels for the analyses below
class_names = fashion["class_names"]
model_name = hp.FASHION_CNN_FINAL
model, history = hp.load_cached(model_name)
model.summary()

# %% [markdown]
# ## Evaluate: test accuracy
#
# Notebook 08 chose, on the validation set, to average each prediction over
# ten views of the image (the image and its mirror image, each also moved one
# pixel up, down, left and right). Its test predictions are cached with the
# model's checksum, so they are loaded here, not recomputed. Everything below
# analyses this ten-view prediction.

# %%
view_probabilities = hp.cached_predictions("fashion_final_test", [model_name], x_test, flip=True, shift=1)[0]
probabilities = view_probabilities.mean(axis=0)  # (images, classes), averaged over the ten views
y_pred = probabilities.argmax(axis=1)
test_accuracy = hp.accuracy(probabilities, y_test)
one_view_accuracy = hp.accuracy(view_probabilities[0], y_test)
print(
    f"test accuracy {test_accuracy:.4f} over ten views ({int(np.sum(y_pred != y_test))} errors in {len(y_test)}); "
    f"{one_view_accuracy:.4f} from one view"
)

# %% [markdown]
# ## Evaluate: confusion matrix, counts and row-normalised

# %%
hp.plot_confusion_matrix(y_test, y_pred, class_names, title="Final Fashion-MNIST CNN, test set (counts)")
# %%
hp.plot_confusion_matrix(
    y_test, y_pred, class_names, normalize=True, title="Final Fashion-MNIST CNN, test set (share of each true class)"
)
# %%
confused = interpret.most_confused_pairs(y_test, y_pred, class_names, top=len(class_names) ** 2)  # every pair
confused.head(8).round(3)

# %%
errors_per_class = pd.Series(np.bincount(y_test[y_pred != y_test], minlength=len(class_names)), index=class_names)
tops = {"T-shirt/top", "Pullover", "Coat", "Shirt"}
within_tops = confused["true"].isin(tops) & confused["predicted"].isin(tops)
among_tops, outside_tops = confused[within_tops], confused[~within_tops]
worst, fewest = errors_per_class.sort_values(ascending=False), errors_per_class.sort_values()
answer_confusion = ""  # your answer
### BEGIN SOLUTION
answer_confusion = (
    "The errors concentrate in the upper-body garments: "
    + ", ".join(f"{row.true} read as {row.predicted} {row.errors} times" for row in among_tops.head(4).itertuples())
    + f" (of 1000 each). {worst.index[0]} is the worst class ({worst.iloc[0]} errors), then {worst.index[1]} "
    f"({worst.iloc[1]}) and {worst.index[2]} ({worst.iloc[2]}); {fewest.index[0]} and {fewest.index[1]} have only "
    f"{fewest.iloc[0]} and {fewest.iloc[1]}. The most frequent confusion outside the tops is {outside_tops.iloc[0]['true']} "
    f"read as {outside_tops.iloc[0]['predicted']} ({outside_tops.iloc[0]['errors']}). At 28x28 grey levels the tops "
    "differ by collars, buttons and sleeve length, details of a few pixels."
)
### END SOLUTION
hp.check_answer(answer_confusion, max_chars=500)

# %% [markdown]
# ## Evaluate: one class in depth, the class with the most errors
#
# Test errors per true class; the class with the most is analysed below: all
# of its misclassified test images, with the predicted class and its
# confidence, most confident first.

# %%
focus = int(np.argmax(errors_per_class.to_numpy()))
print(errors_per_class.sort_values(ascending=False).to_string())

# %%
wrong = np.flatnonzero((y_test == focus) & (y_pred != focus))
wrong = wrong[np.argsort(-probabilities[wrong].max(axis=1))]
print(
    f"{len(wrong)} of {np.sum(y_test == focus)} test images of class {class_names[focus]!r} are misclassified; "
    "predicted as:"
)
focus_predicted = pd.Series([class_names[i] for i in y_pred[wrong]]).value_counts()
print(focus_predicted.to_string())

# %%
hp.plot_misclassified(x_test, y_test, probabilities, class_names, indices=wrong, max_images=18)
# %%
confidence = pd.DataFrame(
    {
        f"correct: {class_names[focus]}": pd.Series(
            probabilities[(y_test == focus) & (y_pred == focus)].max(1)
        ).describe(),
        f"misclassified: {class_names[focus]}": pd.Series(probabilities[wrong].max(1)).describe(),
    }
)
confidence.round(3)

# %%
focus_confidence = confidence.loc["50%"]
answer_focus_class = ""  # your answer
### BEGIN SOLUTION
answer_focus_class = (
    f"{len(wrong)} of the {(y_test == focus).sum()} test {class_names[focus]} images are wrong: "
    + ", ".join(f"{n} called {name}" for name, n in focus_predicted.head(4).items())
    + ". The images show why: long-sleeved shirts with a closed front look like pullovers or coats, short-sleeved "
    "ones without a collar like T-shirts, narrow ones like dresses. The model is less sure of them (median confidence "
    f"{focus_confidence.iloc[1]:.2f} against {focus_confidence.iloc[0]:.2f} for correct ones), so a confidence "
    "threshold could send many of them to a person."
)
### END SOLUTION
hp.check_answer(answer_focus_class, max_chars=500)

# %% [markdown]
# ## Evaluate: feature maps of the first test image
#
# The activations of every filter of convolution layers at three depths for
# the first test image.

# %%
hp.plot_images([x_test[0]], [f"first test image: {class_names[y_test[0]]}"])
# %%
conv_names = interpret.conv_layer_names(model)
chosen_layers = [conv_names[0], conv_names[len(conv_names) // 2], conv_names[-1]]
feature_maps = interpret.layer_outputs(model, chosen_layers, x_test[:1])
print({name: maps.shape[1:] for name, maps in zip(chosen_layers, feature_maps)})

# %%
for name, maps in zip(chosen_layers, feature_maps):
    hp.plot_feature_maps(maps[0], title=f"{name}: {maps.shape[-1]} feature maps of {maps.shape[1]}x{maps.shape[2]}")

# %%
first_maps, middle_maps, last_maps = (
    f"{maps.shape[-1]} maps, {maps.shape[1]}x{maps.shape[2]}" for maps in feature_maps
)
answer_activations = ""  # your answer
### BEGIN SOLUTION
answer_activations = (
    f"The first test image is an {class_names[y_test[0]].lower()}. The first convolution ({first_maps}) detects edges "
    "and intensity: the boot outlined or filled, edges of one orientation (sole, shaft, toe) highlighted. The middle "
    f"one ({middle_maps}) responds to parts: spots along the sole, at the heel or the shaft top. The last "
    f"({last_maps}, before batch normalisation and ReLU) shows coarse grids with no boot shape left, readable only "
    "through the classifier."
)
### END SOLUTION
hp.check_answer(answer_activations, max_chars=500)

# %% [markdown]
# ## Evaluate: embeddings of the training images, mapped with t-SNE
#
# The 256 ReLU activations of the last hidden layer (before the classifier) for
# 5 000 random training images, reduced to two dimensions with scikit-learn's
# t-SNE. The map is cached with the model's SHA-256, so a re-run loads it.

# %%
sample = np.random.default_rng(0).choice(len(x_train), size=min(5000, len(x_train)), replace=False)
embedding_layer = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Activation)][-1]
points = interpret.cached_tsne(  # the embeddings are computed only if the map is not cached
    "fashion_cnn_final_train5000",
    lambda: interpret.layer_outputs(model, [embedding_layer], x_train[sample])[0],
    inputs=x_train[sample],
    model_sha256=hp.manifest(model_name)["files"]["model"]["sha256"],
)
print(embedding_layer, (len(sample), model.get_layer(embedding_layer).output.shape[-1]), "->", points.shape)

# %%
hp.plot_embedding(
    points, y_train_onehot[sample], class_names, title="t-SNE of the CNN's 256-d embeddings (5 000 training images)"
)
# %%
boots_as_sneakers = int(np.sum((y_test == class_names.index("Ankle boot")) & (y_pred == class_names.index("Sneaker"))))
answer_tsne = ""  # your answer
### BEGIN SOLUTION
answer_tsne = (
    "Most classes form one compact cluster (Bag two). Footwear (Sandal, Sneaker, Ankle boot), Bag and Trouser lie "
    "far from the tops, with Sneaker and Ankle boot joined by a thin bridge ("
    + str(boots_as_sneakers)
    + " test ankle boots read as sneakers). Shirt has no cluster of its own: its points lie in pieces between "
    "Pullover, Coat, T-shirt/top and Dress, the classes the confusion matrix says it is mistaken for. The embedding "
    "separates garment types first and small details second."
)
### END SOLUTION
hp.check_answer(answer_tsne, max_chars=500)

# %% [markdown]
# ## Evaluate: expected false classifications in production (seed 003)
#
# The test error rate, scaled to 10 000 images, with a 95 % Wilson interval
# for the uncertainty of measuring it on 10 000 test images.

# %%
production = pd.DataFrame(
    {
        label: hp.expected_errors(acc, len(y_test))
        for label, acc in (("final CNN, ten views", test_accuracy), ("final CNN, one view", one_view_accuracy))
    }
).T
production.round(0)

# %%
ten_views, one_view = production.loc["final CNN, ten views"], production.loc["final CNN, one view"]
answer_production = ""  # your answer
### BEGIN SOLUTION
answer_production = (
    f"At {test_accuracy:.2%} test accuracy the final CNN would misclassify about {ten_views['expected']:.0f} of every "
    f"10 000 images in production (95 % interval {ten_views['low']:.0f}-{ten_views['high']:.0f}), or "
    f"{one_view['expected']:.0f} ({one_view['low']:.0f}-{one_view['high']:.0f}) predicting from one view only. The "
    "interval only covers the sampling error of a 10 000-image test set and assumes production images look like "
    "Fashion-MNIST's test images. Real product photos (other lighting, backgrounds, poses) would be a domain shift, "
    "so the rate there must be measured on a labelled sample of them."
)
### END SOLUTION
hp.check_answer(answer_production, max_sentences=3)

# %% [markdown]
# ## Takeaways

# %%
hp.show_takeaways(
    f"The final CNN's {(y_pred != y_test).sum()} test errors (ten views; "
    f"{round((1 - one_view_accuracy) * len(y_test))} from one view) are mostly among the tops: "
    + ", ".join(f"{name} {n}" for name, n in worst.head(3).items())
    + ", while "
    + " and ".join(f"{name} ({n})" for name, n in fewest.head(2).items())
    + " are nearly solved.",
    f"Misclassified {class_names[focus]} images get lower confidence (median {focus_confidence.iloc[1]:.2f} against "
    f"{focus_confidence.iloc[0]:.2f} for correct ones): a confidence threshold is a cheap way to route doubtful images "
    "to a person.",
    f"Feature maps go from edges to parts to coarse codes ({first_maps}; {middle_maps}; {last_maps}); the t-SNE map of "
    "the last hidden layer shows the structure of the confusion matrix.",
    f"Expect about {ten_views['expected']:.0f} errors per 10 000 images in production (95 % interval "
    f"{ten_views['low']:.0f}-{ten_views['high']:.0f}), if production images look like the test set.",
)
