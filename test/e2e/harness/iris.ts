import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mlserverVenv } from './mlserver.ts';

const run = promisify(execFile);

// Trained on scikit-learn's bundled iris data (no download); fixed seed so the model is
// the same on every run.
const trainScript = `
import json, sys
import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

folder, name = sys.argv[1], sys.argv[2]
x, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=1000, random_state=0).fit(x, y)
joblib.dump(model, f"{folder}/model.joblib")
settings = {
    "name": name,
    "implementation": "mlserver_sklearn.SKLearnModel",
    "parameters": {"uri": "./model.joblib", "version": "v1"},
}
with open(f"{folder}/model-settings.json", "w") as f:
    json.dump(settings, f, indent=2, sort_keys=True)
`;

/**
 * Trains a small scikit-learn classifier on iris with the provisioned virtualenv and saves it as
 * an MLServer model folder `<parentDir>/<name>` (model.joblib + model-settings.json).
 * Returns that folder.
 */
export async function trainIrisModel(parentDir: string, name = 'iris'): Promise<string> {
  const folder = join(parentDir, name);
  mkdirSync(folder, { recursive: true });
  const python = join(mlserverVenv(), 'bin', 'python');
  try {
    await run(python, ['-c', trainScript, folder, name], { timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`training the iris model in ${folder} failed: ${e.stderr || e.message}`);
  }
  if (!existsSync(join(folder, 'model-settings.json'))) {
    throw new Error(`training the iris model wrote no model-settings.json in ${folder}`);
  }
  return folder;
}
