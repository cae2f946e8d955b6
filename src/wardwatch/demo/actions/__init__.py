"""What each device does in a round: one module per family of behaviour, all writing through a Context."""
