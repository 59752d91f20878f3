"""Fit confinement time against heating power for every shot in
inputs/shots/shots.csv (least squares, standard library only) and write
the fit to fit.csv in the job's directory."""
import csv

with open("inputs/shots/shots.csv") as f:
    rows = list(csv.DictReader(f))
x = [float(r["heating_mw"]) for r in rows]
y = [float(r["confinement_ms"]) for r in rows]
n = len(x)
mx, my = sum(x) / n, sum(y) / n
slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)
intercept = my - slope * mx
rmse = (sum((intercept + slope * a - b) ** 2 for a, b in zip(x, y)) / n) ** 0.5

with open("fit.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["quantity", "value"])
    w.writerow(["shots", n])
    w.writerow(["slope_ms_per_mw", round(slope, 4)])
    w.writerow(["intercept_ms", round(intercept, 4)])
    w.writerow(["rmse_ms", round(rmse, 4)])
print(f"fit: confinement_ms = {intercept:.2f} + {slope:.3f} * heating_mw over {n} shots (rmse {rmse:.2f} ms)")
