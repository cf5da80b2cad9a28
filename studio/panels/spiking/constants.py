"""Colours, tabs and the bounds of what the spiking views keep."""

from __future__ import annotations

import enum

# Okabe-Ito colours (studio.theme.OKABE_ITO): they stay apart for colour-blind readers
E_RGB = (213, 94, 0)  # excitatory neurons: vermillion
I_RGB = (0, 114, 178)  # inhibitory neurons: blue
IN_RGB = (153, 153, 153)  # inputs: grey
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
