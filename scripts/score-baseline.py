#!/usr/bin/env python3
"""The gradient-boosted baseline for BENCHMARKS.md: LightGBM (a tuned-for-tabular default:
early stopping on a held-out share, monotone constraints off) cross-validated on the same folds
as `credit-registry score train --folds K` (rows dealt by the same splitmix64 scatter).

usage: scripts/score-baseline.py FILE.csv TARGET IGNORED_COLUMNS [K]   (IGNORED_COLUMNS comma-separated)
needs: pip install lightgbm pandas scikit-learn
"""
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

MASK = (1 << 64) - 1


def scatter(seed, row):
    """registry-score's boost::scatter (splitmix64), so the folds are the same rows."""
    z = (seed + row * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def main():
    path, target, id_column = sys.argv[1:4]
    folds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    data = pd.read_csv(path, na_values=["NA", ""])
    y = data[target].to_numpy()
    dropped = [target] + id_column.split(",")
    x = data.drop(columns=dropped)
    fold_of = np.array([scatter(1 ^ 0xF01D, i) % folds for i in range(len(data))])
    aucs, kss = [], []
    for fold in range(folds):
        train, test = fold_of != fold, fold_of == fold
        inner = np.array([scatter(7, i) % 100 < 15 for i in range(len(data))])[train]
        model = lgb.LGBMClassifier(n_estimators=5000, learning_rate=0.02, num_leaves=16, min_child_samples=50,
                                   subsample=0.8, subsample_freq=1, colsample_bytree=0.8, verbose=-1)
        xt, yt = x[train], y[train]
        model.fit(xt[~inner], yt[~inner], eval_set=[(xt[inner], yt[inner])],
                  callbacks=[lgb.early_stopping(200, verbose=False)])
        p = model.predict_proba(x[test])[:, 1]
        fpr, tpr, _ = roc_curve(y[test], p)
        aucs.append(roc_auc_score(y[test], p))
        kss.append(float(np.max(tpr - fpr)))
        print(f"  fold {fold + 1}: AUC {aucs[-1]:.4f}, KS {kss[-1]:.4f} ({test.sum()} rows)")
    print(f"  cross-validated: AUC {np.mean(aucs):.4f}, KS {np.mean(kss):.4f}")


main()
