"""The checks of validation, one module per concern; planner.input.validate runs them in order."""
