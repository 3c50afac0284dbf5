"""``cnnbp demo saturation``: why cross-entropy beats the quadratic cost (F3 vs F4)."""

from __future__ import annotations

import numpy as np


def register(sub):
    p = sub.add_parser(
        "demo",
        help="small demonstrations of the reference derivation",
        description="saturation: one sigmoid output unit with target y = 1 driven to more "
                    "and more negative z; prints the residual dC/dz that each cost sends back "
                    "(F3 for the quadratic cost, F4 for cross-entropy).",
    )
    p.add_argument("name", choices=["saturation"], help="which demonstration")
    p.set_defaults(func=run)


def saturation_rows(z_values=(0.0, -2.0, -5.0, -10.0, -20.0)):
    """For each z: (z, a, quadratic residual, cross-entropy residual), through the layers."""
    from ..layers import Sigmoid
    from ..losses import CrossEntropy, Quadratic

    rows = []
    for z in z_values:
        x = np.array([[z]], dtype=np.float64)
        y = np.ones_like(x)
        out = []
        for cost in (Quadratic(), CrossEntropy()):
            unit = Sigmoid()
            a = unit.forward(x)
            cost.forward(a, y)
            out.append(float(unit.backward(cost.backward())[0, 0]))
        rows.append((z, float(a[0, 0]), out[0], out[1]))
    return rows


def run(args) -> int:
    print("One sigmoid unit, target y = 1, input z (batch of 1).")
    print("F3, quadratic cost:     delta = (a - y) f'(z)")
    print("F4, cross-entropy cost: delta = a - y\n")
    print(f"{'z':>6} {'a = sigmoid(z)':>16} {'delta (quadratic)':>19} {'delta (cross-ent.)':>19}")
    for z, a, dq, dce in saturation_rows():
        print(f"{z:>6.1f} {a:>16.3e} {dq:>19.3e} {dce:>19.3e}")
    print("\nDeep in saturation the quadratic residual vanishes; the cross-entropy one stays near -1.")
    return 0
