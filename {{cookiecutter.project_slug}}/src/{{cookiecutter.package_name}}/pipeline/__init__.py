"""The training pipeline: one module per DVC stage (data, validate, split, train, evaluate) and the code they
share (features, metrics, plots, lineage, MLflow tracking)."""
