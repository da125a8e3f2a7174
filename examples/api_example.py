"""The Python API: one check, then a case file (run by tests/test_examples.py)."""

from pathlib import Path

from gradcheck_cli import check, check_file

result = check("w*x+b", loss="mse", seed=1)
print(result.status)  # pass
print(result.to_dict()["gradients"][0]["autograd"])  # -1.0601369142532349

batch = check_file(Path(__file__).with_name("tutorial.toml"), workers=1)
print(batch.summary())  # {'total': 22, 'passed': 22, 'failed': 0, 'error': 0}
for outcome in batch.outcomes[:2]:
    print(outcome.case, outcome.status, outcome.to_dict()["loss_value"]["autograd"])
print("all passed" if batch.ok else "some cases did not pass")
