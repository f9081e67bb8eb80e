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

# Task 2, Table 8: the hyper-parameter study of the n_c = 12 classifier, model by model.
# "starred": marked * in the table, i.e. plotted in Figure 3. Accuracy in % (test set),
# epochs trained, CSE = mean common-sense error in minutes; note = the table's Notes.
TABLE8 = {
    0: {"starred": True, "accuracy": 81, "epochs": 100, "cse": 28, "note": "Fiducial model"},
    1: {"starred": False, "accuracy": 62, "epochs": 175, "cse": 44,
        "note": "Increased batch size: no speedup, lots of overfitting"},
    2: {"starred": False, "accuracy": 67, "epochs": 135, "cse": 40,
        "note": "Big batches plus batch norm: still bad, but BN helps"},
    3: {"starred": True, "accuracy": 72, "epochs": 137, "cse": 35,
        "note": "BN with fiducial batch size: faster, but stil overfits"},
    4: {"starred": False, "accuracy": 81, "epochs": 160, "cse": 25,
        "note": "Combat overfitting with harder dropout: no more overfitting!"},
    5: {"starred": True, "accuracy": 83, "epochs": 150, "cse": 23,
        "note": "Previous model + doubled convolutional nodes: pretty good!"},
    6: {"starred": True, "accuracy": 80, "epochs": 117, "cse": 26,
        "note": "Faster learning rate decay: not quite better, but converges faster!"},
    7: {"starred": False, "accuracy": 53, "epochs": 72, "cse": 45,
        "note": "Even faster LR decay: terrible! go back!!"},
    8: {"starred": True, "accuracy": 79, "epochs": 143, "cse": 23,
        "note": "Extra convolutional layers: maybe the extra info isn't being put to use"},
    9: {"starred": True, "accuracy": 96, "epochs": 96, "cse": 16,
        "note": "More dense nodes and smaller pooling strides: perfection!"},
}

# Task 1, "Keras Basics": validation loss and accuracy (fraction) after 30 epochs, keyed by
# the run names of params.yaml basics.runs. Table 3: CNNs and Table 4: MLPs on
# Fashion-MNIST; Table 5: the three winners on CIFAR-10 (the report gives no test numbers).
BASICS = {
    "epochs": 30,
    "val_fraction": 0.1,
    "table3": {
        "cnn_adam_c3_d0": {"val_loss": 0.4864, "val_accuracy": 0.9232},
        "cnn_adam_c3_d2": {"val_loss": 0.3633, "val_accuracy": 0.9258},
        "cnn_adam_c5_d0": {"val_loss": 0.3905, "val_accuracy": 0.9198},
        "cnn_adam_c5_d2": {"val_loss": 0.3669, "val_accuracy": 0.9144},
        "cnn_sgd_c3_d0": {"val_loss": 0.2594, "val_accuracy": 0.9104},
        "cnn_sgd_c3_d2": {"val_loss": 0.2551, "val_accuracy": 0.9088},
        "cnn_sgd_c5_d0": {"val_loss": 0.3331, "val_accuracy": 0.9020},
        "cnn_sgd_c5_d2": {"val_loss": 0.2558, "val_accuracy": 0.9132},
    },
    "table4": {
        "mlp_adam": {"val_loss": 0.4668, "val_accuracy": 0.8990},
        "mlp_sgd": {"val_loss": 0.3051, "val_accuracy": 0.8894},
    },
    "table5": {
        "cnn_sgd_c3_d0": {"val_loss": 0.2714, "val_accuracy": 0.9116},
        "cnn_sgd_c3_d2": {"val_loss": 0.2435, "val_accuracy": 0.9106},
        "cnn_sgd_c5_d2": {"val_loss": 0.2435, "val_accuracy": 0.9112},
    },
}
