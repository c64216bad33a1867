"""A small PNG encoder for the explorers' Agg canvas (what the widget's ``Image`` shows).

Teaches nothing about the trial: it is why an explorer's picture can be swapped in
place quickly (see :meth:`teachkit.explorers.Explorer._render`).
"""

from __future__ import annotations

import functools
import struct
import zlib

import numpy as np


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def _encode_png(canvas) -> bytes:
    """Encode the Agg canvas's pixels as an 8-bit RGBA PNG.

    Written directly (filter "none" on every row, zlib level 1): about five times
    faster than PIL's encoder on these flat-colour figures, at the same size.  RGBA, as
    the canvas holds it: copying out the RGB bytes alone (a strided gather) took longer
    than compressing the extra, constant alpha byte.  The PNG format: signature, IHDR
    (width, height, bit depth 8, colour type 6 = RGBA), IDAT (the zlib-compressed rows,
    each prefixed with its filter byte), IEND.
    """
    rgba = np.asarray(canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter byte 0 = none
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows, 1)) + _png_chunk(b"IEND", b""))


# --------------------------------------------------------------------------------------
# A canvas whose text is drawn from a glyph cache (same pixels, a fraction of the time)
# --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _canvas_class():
    """``FigureCanvasAgg``, or a subclass whose renderer draws text from a cache.

    Since matplotlib 3.11 Agg renders text glyph by glyph: every draw of a Text lays
    its string out again (``FT2Font._layout``) and asks FreeType to rasterize every
    glyph again, even when the string and its place did not change.  On an explorer
    the moving texts (titles, readouts) are most of the cost of an update.  The pixels
    of a glyph depend only on the font, its size, the glyph and the sub-pixel part
    (1/64 px) of its position: :class:`_CachingRenderer` keeps those bitmaps and the
    layouts, so the picture is byte-for-byte what Agg draws without the cache.  Older
    matplotlib (one bitmap per string, already fast) keeps its own renderer.
    """
    from matplotlib.backends import backend_agg

    base = backend_agg.RendererAgg
    if not (hasattr(base, "_draw_text_glyphs_and_boxes") and hasattr(base, "_prepare_font")):
        return backend_agg.FigureCanvasAgg

    class _CachingRenderer(base):
        # shared by every explorer (figures of one process use the same fonts)
        _glyphs: dict = {}
        _layouts: dict = {}
        MAX_ITEMS = 50_000

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if ismath or angle % 360 != 0 or (mtext is not None and any(
                    getattr(mtext, f"get_{k}", lambda: None)() is not None
                    for k in ("fontfeatures", "language"))):
                return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            flags = backend_agg.get_hinting_flag()
            key = (s, tuple(prop.get_family()), prop.get_style(), prop.get_variant(),
                   prop.get_weight(), prop.get_stretch(), prop.get_file(),
                   prop.get_size_in_points(), self.dpi, flags)
            items = self._layouts.get(key)
            if items is None:
                font = self._prepare_font(prop)
                items = tuple((item.ft_object, item.glyph_index, item.x, item.y)
                              for item in font._layout(s, flags=flags))
                self._remember(self._layouts, key, items)
            self._draw_cached_glyphs(gc, x, y, prop.get_size_in_points(), items, flags)

        def _draw_cached_glyphs(self, gc, x, y, size, items, flags):
            antialiased = bool(gc.get_antialiased())
            mode = backend_agg.RenderMode.NORMAL if antialiased else backend_agg.RenderMode.MONO
            height = self.height
            for font, glyph_index, dx, dy in items:
                # FreeType's 26.6 fixed-point pen position, as Agg computes it (y upwards)
                px = round(0x40 * (x + dx))
                py = round(0x40 * (height - y + dy))
                key = (font, size, self.dpi, glyph_index, px & 0x3F, py & 0x3F, flags, antialiased)
                glyph = self._glyphs.get(key)
                if glyph is None:
                    font.set_size(size, self.dpi)
                    font._set_transform(_IDENTITY, [px & 0x3F, py & 0x3F])
                    bitmap = font._render_glyph(glyph_index, flags, mode)
                    buffer = np.array(bitmap.buffer, copy=True)
                    if not antialiased:
                        buffer *= 0xFF
                    glyph = (buffer, bitmap.left, bitmap.top)
                    self._remember(self._glyphs, key, glyph)
                buffer, left, top = glyph
                # whole pixels of the position only move the bitmap
                self._renderer.draw_text_image(
                    buffer, left + (px >> 6), int(height) - (top + (py >> 6)) + buffer.shape[0],
                    0, gc)

        @classmethod
        def _remember(cls, cache, key, value):
            if len(cache) >= cls.MAX_ITEMS:
                cache.clear()
            cache[key] = value

    class _Canvas(backend_agg.FigureCanvasAgg):
        def get_renderer(self):
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if getattr(self, "_lastKey", None) != key:
                self.renderer = _CachingRenderer(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

    return _Canvas


_IDENTITY = np.array([[0x10000, 0], [0, 0x10000]])
