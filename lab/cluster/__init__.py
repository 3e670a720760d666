"""The cluster stage measured: ECB+ replays, the referee, weight fitting and the ceiling."""
