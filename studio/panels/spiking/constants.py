"""Colours, tabs and the bounds of what the spiking views keep."""

from __future__ import annotations

import enum

E_RGB = (228, 87, 46)  # excitatory neurons
I_RGB = (59, 139, 212)  # inhibitory neurons
IN_RGB = (150, 150, 150)  # inputs
KEEP_S = 10.0  # seconds of spikes, rates and traces kept for the views
MAX_KEEP_SPIKES = 3_000_000
NETWORK_VIEW_MAX = 500  # neurons drawn in the network view
FLASH_S = 0.005  # a neuron flashes this long after a spike
WEIGHTS_EVERY = 6  # the weights tab redraws every this many frames


class Tab(enum.IntEnum):
    """The panel's tabs, in order."""

    ACTIVITY = 0
    WEIGHTS = 1
    NETWORK = 2
    TRAINING = 3
    NEUROCOREX = 4
