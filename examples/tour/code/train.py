"""Train a tiny surrogate of the neutron rate from heating power and
density (least squares on two features, standard library only). It writes
the model's directory model/ (weights, metrics.json, MODEL.md) and
predictions.csv."""
import csv
import json
import os

with open("inputs/shots/shots.csv") as f:
    rows = list(csv.DictReader(f))
X = [(1.0, float(r["heating_mw"]), float(r["density_1e19"])) for r in rows]
y = [float(r["neutron_rate_1e15"]) for r in rows]

# Normal equations (X^T X) w = X^T y, solved by Gaussian elimination.
A = [[sum(a[i] * a[j] for a in X) for j in range(3)] for i in range(3)]
b = [sum(a[i] * t for a, t in zip(X, y)) for i in range(3)]
for c in range(3):
    p = max(range(c, 3), key=lambda r: abs(A[r][c]))
    A[c], A[p], b[c], b[p] = A[p], A[c], b[p], b[c]
    for r in range(c + 1, 3):
        k = A[r][c] / A[c][c]
        A[r] = [u - k * v for u, v in zip(A[r], A[c])]
        b[r] -= k * b[c]
w = [0.0, 0.0, 0.0]
for c in (2, 1, 0):
    w[c] = (b[c] - sum(A[c][k] * w[k] for k in range(c + 1, 3))) / A[c][c]

pred = [sum(wi * ai for wi, ai in zip(w, a)) for a in X]
rmse = (sum((p - t) ** 2 for p, t in zip(pred, y)) / len(y)) ** 0.5

os.makedirs("model", exist_ok=True)
with open("model/weights.json", "w") as f:
    json.dump({"features": ["bias", "heating_mw", "density_1e19"], "weights": w}, f)
with open("model/metrics.json", "w") as f:
    json.dump({"rmse": round(rmse, 4), "shots": len(y)}, f)
with open("model/MODEL.md", "w") as f:
    f.write("# shot-surrogate\n\nLinear surrogate of the neutron rate (1e15/s) from heating power and density,\n"
            f"trained on {len(y)} shots; RMSE {rmse:.3f}.\n")
with open("predictions.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["shot", "neutron_rate_1e15", "predicted"])
    for r, p in zip(rows, pred):
        out.writerow([r["shot"], r["neutron_rate_1e15"], round(p, 3)])
print(f"trained shot-surrogate on {len(y)} shots: rmse {rmse:.3f}")
