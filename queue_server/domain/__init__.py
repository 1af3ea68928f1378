"""Pure domain of the queue: no I/O, no framework, standard library only."""
