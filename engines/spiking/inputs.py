"""Input encodings for the spiking engine."""

from __future__ import annotations

import numpy as np

__all__ = ["rate_code"]


def rate_code(image, max_rate_hz: float = 100.0, min_rate_hz: float = 0.0, vmax: float | None = None):
    """Poisson rates (Hz) proportional to pixel intensity, one per pixel.

    Intensities are scaled by ``vmax`` (default: the image maximum) so the
    brightest pixel fires at ``max_rate_hz``. Returns a flat float array.
    """
    img = np.asarray(image, np.float64).ravel()
    if img.size == 0:
        raise ValueError("rate_code: the image is empty")
    if not np.all(np.isfinite(img)) or img.min() < 0:
        raise ValueError("rate_code: pixel values must be finite and >= 0")
    if max_rate_hz < min_rate_hz or min_rate_hz < 0:
        raise ValueError("rate_code: need 0 <= min_rate_hz <= max_rate_hz")
    top = float(img.max()) if vmax is None else float(vmax)
    if top <= 0:
        return np.full(img.size, float(min_rate_hz))
    return min_rate_hz + (max_rate_hz - min_rate_hz) * np.clip(img / top, 0.0, 1.0)
