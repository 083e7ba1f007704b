"""The training pipeline: one module per DVC stage (data, validate, split, train, evaluate) and the code they
share (features, estimators, metrics, plots, lineage, MLflow tracking)."""
