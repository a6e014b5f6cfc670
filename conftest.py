import os

# scikit-learn's check_array_api_input is skipped unless scipy runs in array
# API mode; turn it on before anything imports scipy so that the estimator
# checks run in full.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
