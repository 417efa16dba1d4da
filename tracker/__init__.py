"""The service layer: queries and commands shared by every front end, plus configuration."""
