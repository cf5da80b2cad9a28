"""Collaborative neural painting: strokes, renderers, decomposition, completion model.

Headless; no Qt. See :mod:`engines.painting.strokes` (the document),
:mod:`engines.painting.render` (renderers), :mod:`engines.painting.decompose`
(image -> strokes) and :mod:`engines.painting.model` (completion by diffusion).
"""
