"""The console's shell pieces: the engine session, screens, modals and palette commands."""
