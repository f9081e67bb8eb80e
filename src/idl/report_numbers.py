"""Numbers the report (../shared/seed/idl-assignment-1-report.md) gives, to show beside ours.

Typed in from the report's text and tables; nothing here is computed.
"""

# Task 2, "Tell the time". Accuracy in %, CSE = mean common-sense error in minutes.
CLOCK = {
    "final_nc12": {
        "what": "classification, n_c = 12 (Table 7)",
        "accuracy": 96.0,
        "cse_mean": 16.0,
        "epochs": 96,
        "where": "Table 8 model 9 / Table 7 caption",
    },
    "final_nc24": {"what": "classification, n_c = 24", "accuracy": 93.0, "cse_mean": 9.8, "epochs": 109, "where": "text, 'Smaller intervals'"},
    "final_nc48": {"what": "classification, n_c = 48", "accuracy": 88.0, "cse_mean": 9.6, "epochs": 106, "where": "text, 'Smaller intervals'"},
    "final_nc720": {"what": "classification, n_c = 720", "accuracy": 15.0, "cse_mean": 67.0, "epochs": 128, "where": "text, 'Smaller intervals'"},
    "regression": {"what": "regression, MAE (Table 9)", "accuracy": None, "cse_mean": 12.5, "epochs": 86, "where": "Table 9 caption"},
    "multihead": {"what": "multi-head, hour class + minute regression", "accuracy": None, "cse_mean": 2.5, "epochs": 80, "where": "text, 'Model 3: Multihead'"},
}
