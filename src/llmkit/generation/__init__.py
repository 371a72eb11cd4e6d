"""Streaming generation: typed events, the engine, and the backends behind one interface."""
