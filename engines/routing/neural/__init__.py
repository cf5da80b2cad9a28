"""The neural constructive solver: matrix-biased attention, POMO, REINFORCE."""
