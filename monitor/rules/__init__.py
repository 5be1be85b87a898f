"""Pure decision rules: thresholds and classification as functions of plain data and time."""
