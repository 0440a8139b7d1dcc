"""What trains: the LightningModule, its optimizers and schedules, and its metrics."""
