"""The gates a model passes: the PR report and regression gate, the deploy (promotion) gate, the
dvc.lock check, and the MLflow registry that names what is deployed."""
