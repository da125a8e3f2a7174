"""Arguments inside each function's domain, shared by the tests and the benchmarks that
generate models (benchmarks put tests/ on their path): one table, not one per script."""

# "pi" and "0.1" leaves: SymPy folds sin(pi) to an exact 0 while torch computes
# sin(3.14159274) = -8.7e-8; the bound's constant term (analysis.constant_term) must cover it.
LEAVES = ["w", "b", "x", "w*x", "0.5", "2", "pi", "0.1"]
SAFE = {  # function -> its call on an argument text a (and b for binary functions)
    "exp": "exp(2*sin({a}))",
    "expm1": "expm1(2*sin({a}))",
    "sinh": "sinh(2*sin({a}))",
    "cosh": "cosh(2*sin({a}))",
    "log": "log(0.5 + ({a})**2)",
    "sqrt": "sqrt(0.5 + ({a})**2)",
    "cbrt": "cbrt(0.5 + ({a})**2)",
    "log1p": "log1p(({a})**2)",
    "pow": "pow(0.5 + ({a})**2, {b})",
    "asin": "asin(0.9*tanh({a}))",
    "acos": "acos(0.9*tanh({a}))",
    "atanh": "atanh(0.9*tanh({a}))",
    "acosh": "acosh(1.5 + ({a})**2)",
    "tan": "tan(sin({a}))",
    "gamma": "gamma(0.5 + 3*sigmoid({a}))",
    "lgamma": "lgamma(0.5 + 3*sigmoid({a}))",
    "atan2": "atan2({a}, 1 + ({b})**2)",
    "hypot": "hypot({a}, 1 + ({b})**2)",
    "leaky_relu": "leaky_relu({a}, 0.2)",
    "elu": "elu({a}, 1.5)",
    "softplus": "softplus({a}, 2, 3)",
    "hardtanh": "hardtanh({a}, -0.5, 0.5)",
    "clamp": "clamp({a}, -0.5, 0.5)",
    "min": "min({a}, {b})",
    "max": "max({a}, {b})",
    "mish": "mish(2*sin({a}))",
    "silu": "silu(2*sin({a}))",
}

DOMAIN = {  # the argument w*x + b of a function with a restricted domain, mapped into it
    "log": "exp(w*x + b) + 1",
    "sqrt": "exp(w*x + b)",
    "cbrt": "exp(w*x + b)",
    "asin": "tanh(w*x + b)/2",
    "acos": "tanh(w*x + b)/2",
    "acosh": "exp(w*x + b) + 1",
    "atanh": "tanh(w*x + b)/2",
    "gamma": "exp(w*x + b) + 1/2",
    "lgamma": "exp(w*x + b) + 1/2",
}
