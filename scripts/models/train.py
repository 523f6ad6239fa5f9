"""Builds the example apps' models into a folder laid out like object storage
(<bucket>/<path>), for `mlops dev --models`. Offline: the scikit-learn models are trained on
the iris data set scikit-learn bundles, with fixed seeds, so every run writes the same models.

  python train.py OUT_DIR
"""

import json
import shutil
import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

HERE = Path(__file__).resolve().parent
# Stand-ins for Seldon's public iris samples: same input (4 features) and output (the class).
SELDON_SAMPLES = "seldon-models/scv2/samples/mlserver_1.6.0"
IRIS_MODELS = {
    f"{SELDON_SAMPLES}/iris-sklearn": LogisticRegression(max_iter=1000, random_state=0),
    f"{SELDON_SAMPLES}/iris-sklearn-v2": DecisionTreeClassifier(max_depth=3, random_state=0),
}
IRIS_METADATA = {
    "inputs": [{"name": "predict", "datatype": "FP64", "shape": [-1, 4]}],
    "outputs": [{"name": "predict", "datatype": "INT64", "shape": [-1, 1]}],
}
ADD_SUB_TENSORS = {
    "inputs": [{"name": f"INPUT{i}", "datatype": "INT32", "shape": [-1, 16]} for i in (0, 1)],
    "outputs": [{"name": f"OUTPUT{i}", "datatype": "INT32", "shape": [-1, 16]} for i in (0, 1)],
}


def write_settings(folder: Path, settings: dict) -> None:
    (folder / "model-settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")


def main(out: Path) -> None:
    x, y = load_iris(return_X_y=True)
    for path, estimator in IRIS_MODELS.items():
        folder = out / path
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(estimator.fit(x, y), folder / "model.joblib")
        write_settings(
            folder,
            {
                "name": folder.name,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "v1"},
                **IRIS_METADATA,
            },
        )
        print(f"trained {path} ({type(estimator).__name__}, accuracy {estimator.score(x, y):.2f})")

    # A custom MLServer runtime: Triton's `simple` sample (add and subtract) in Python.
    folder = out / "my-models/add-sub"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "add_sub.py", folder / "add_sub.py")
    write_settings(folder, {"name": "add-sub", "implementation": "add_sub.AddSub", **ADD_SUB_TENSORS})
    print("wrote my-models/add-sub (MLServer custom runtime)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: train.py OUT_DIR")
    main(Path(sys.argv[1]))
