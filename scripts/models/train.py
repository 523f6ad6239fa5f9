"""Builds the example apps' models into a folder laid out like object storage
(<bucket>/<path>), for `mlops dev --models`. Offline: the iris models (scikit-learn and XGBoost)
are trained on the iris data set scikit-learn bundles, and the income classifier on a synthetic
data set with the Adult census schema, all with fixed seeds, so every run writes the same models.

  python train.py OUT_DIR
"""

import json
import shutil
import sys
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

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
# Seldon's income sample takes one row of the Adult census data, label-encoded: age, workclass,
# education, marital status, occupation, relationship, race, sex, capital gain, capital loss,
# hours per week, country; it answers 1 for an income over $50K.
INCOME_FEATURES = [
    ("age", 17, 90),
    ("workclass", 0, 8),
    ("education", 0, 6),
    ("marital_status", 0, 3),
    ("occupation", 0, 8),
    ("relationship", 0, 5),
    ("race", 0, 4),
    ("sex", 0, 1),
    ("capital_gain", 0, 20000),
    ("capital_loss", 0, 4000),
    ("hours_per_week", 1, 99),
    ("country", 0, 10),
]
INCOME_METADATA = {
    "inputs": [{"name": "income", "datatype": "INT64", "shape": [-1, len(INCOME_FEATURES)]}],
    "outputs": [{"name": "predict", "datatype": "INT64", "shape": [-1, 1]}],
}
ADD_SUB_TENSORS = {
    "inputs": [{"name": f"INPUT{i}", "datatype": "INT32", "shape": [-1, 16]} for i in (0, 1)],
    "outputs": [{"name": f"OUTPUT{i}", "datatype": "INT32", "shape": [-1, 16]} for i in (0, 1)],
}


def write_settings(folder: Path, settings: dict) -> None:
    (folder / "model-settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")


def synthetic_income(rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows in the Adult schema's ranges, labelled by a plain rule (older, longer hours, more
    education or capital gains earn more) with 5% of the labels flipped."""
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.integers(low, high + 1, rows) for _, low, high in INCOME_FEATURES])
    x[:, 8] = np.where(rng.random(rows) < 0.9, 0, x[:, 8])  # most people have no capital gain
    x[:, 9] = np.where(rng.random(rows) < 0.95, 0, x[:, 9])
    rules = [x[:, 0] > 35, x[:, 10] > 45, x[:, 2] >= 4, x[:, 8] > 5000, x[:, 8] > 5000]
    score = np.sum(rules, axis=0)  # a capital gain counts twice
    y = (score >= 2).astype(np.int64)
    flip = rng.random(rows) < 0.05
    return x, np.where(flip, 1 - y, y)


def write_iris_xgboost(out: Path, x: np.ndarray, y: np.ndarray) -> None:
    folder = out / f"{SELDON_SAMPLES}/iris-xgboost"
    folder.mkdir(parents=True, exist_ok=True)
    model = XGBClassifier(n_estimators=20, max_depth=3, random_state=0, n_jobs=1).fit(x, y)
    model.save_model(folder / "model.json")
    write_settings(
        folder,
        {
            "name": folder.name,
            "implementation": "mlserver_xgboost.XGBoostModel",
            "parameters": {"uri": "./model.json", "version": "v1"},
            **IRIS_METADATA,
        },
    )
    print(f"trained {folder.relative_to(out)} (XGBClassifier, accuracy {model.score(x, y):.2f})")


def write_income(out: Path) -> None:
    folder = out / f"{SELDON_SAMPLES}/income-sklearn/classifier"
    folder.mkdir(parents=True, exist_ok=True)
    x, y = synthetic_income(2000)
    model = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(x, y)
    joblib.dump(model, folder / "model.joblib")
    write_settings(
        folder,
        {
            "name": "income",
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": "v1"},
            **INCOME_METADATA,
        },
    )
    accuracy = model.score(x, y)
    print(f"trained {folder.relative_to(out)} (RandomForestClassifier, synthetic rows, accuracy {accuracy:.2f})")


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
    write_iris_xgboost(out, x, y)
    write_income(out)

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
