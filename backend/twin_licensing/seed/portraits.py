"""Stylised portraits as SVG, drawn from a hash of the name: deterministic, offline, a few kilobytes each."""

from __future__ import annotations

import hashlib
from html import escape

_SKIN = ("#f6d7c3", "#eac086", "#d7a27a", "#b57b55", "#8d5524", "#6b3e26", "#f1c27d", "#c68642")
_HAIR = ("#1b1b1b", "#3b2314", "#6a4e42", "#a0522d", "#d8b25a", "#e6cea8", "#8b1e2d", "#2e2a4f")
_BACKDROP = (
    ("#f4e9e1", "#d9c2b0"),
    ("#e3ecf4", "#a9c0d6"),
    ("#efe6f5", "#c5a9d9"),
    ("#e6f2ea", "#a5cdb2"),
    ("#f7f0d9", "#d9c78a"),
    ("#f2e0e0", "#d49a9a"),
)
_CLOTHES = ("#222222", "#f5f5f0", "#7a1f2b", "#1f3a5f", "#c8a96a", "#2f5d50", "#b0b0b0", "#5b2a86")


def portrait_svg(name: str, width: int = 480, height: int = 600) -> str:
    """An SVG portrait of `name`: skin, hair style and colour, backdrop and clothes chosen by the name's hash."""
    digest = hashlib.sha256(name.encode()).digest()

    def pick(options, i):
        return options[digest[i] % len(options)]

    skin, hair, clothes = pick(_SKIN, 0), pick(_HAIR, 1), pick(_CLOTHES, 2)
    light, dark = pick(_BACKDROP, 3)
    style = digest[4] % 4  # long, bob, bun, curls
    tilt = (digest[5] % 9) - 4  # a slight head tilt in degrees, so the portraits do not look stamped
    cx, cy = width // 2, int(height * 0.42)
    initials = "".join(part[0] for part in name.split()[:2]).upper()

    hair_back = {
        0: f'<path d="M{cx - 120} {cy - 20} Q{cx - 130} {cy + 230} {cx - 80} {cy + 250} L{cx + 80} {cy + 250} '
        f'Q{cx + 130} {cy + 230} {cx + 120} {cy - 20} Z" fill="{hair}"/>',
        1: f'<path d="M{cx - 115} {cy - 30} Q{cx - 125} {cy + 90} {cx - 95} {cy + 110} L{cx + 95} {cy + 110} '
        f'Q{cx + 125} {cy + 90} {cx + 115} {cy - 30} Z" fill="{hair}"/>',
        2: f'<circle cx="{cx}" cy="{cy - 140}" r="52" fill="{hair}"/>',
        3: "".join(
            f'<circle cx="{cx + dx}" cy="{cy + dy}" r="42" fill="{hair}"/>'
            for dx, dy in ((-105, -40), (105, -40), (-115, 30), (115, 30), (-95, 95), (95, 95), (0, -120))
        ),
    }[style]
    eye_y = cy + 5
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="Portrait of the digital twin of {escape(name)}">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="{light}"/><stop offset="1" stop-color="{dark}"/>
    </linearGradient>
  </defs>
  <rect width="{width}" height="{height}" fill="url(#bg)"/>
  <g transform="rotate({tilt} {cx} {cy})">
    {hair_back}
    <path d="M{cx - 170} {height} Q{cx - 160} {cy + 190} {cx} {cy + 175} Q{cx + 160} {cy + 190} {cx + 170} {height} Z" fill="{clothes}"/>
    <rect x="{cx - 32}" y="{cy + 90}" width="64" height="80" rx="20" fill="{skin}"/>
    <ellipse cx="{cx}" cy="{cy}" rx="95" ry="120" fill="{skin}"/>
    <path d="M{cx - 100} {cy - 30} Q{cx - 90} {cy - 140} {cx} {cy - 135} Q{cx + 90} {cy - 140} {cx + 100} {cy - 30} Q{cx + 40} {cy - 95} {cx - 100} {cy - 30} Z" fill="{hair}"/>
    <ellipse cx="{cx - 35}" cy="{eye_y}" rx="11" ry="7" fill="#2b2b2b"/>
    <ellipse cx="{cx + 35}" cy="{eye_y}" rx="11" ry="7" fill="#2b2b2b"/>
    <path d="M{cx - 52} {eye_y - 22} Q{cx - 35} {eye_y - 30} {cx - 18} {eye_y - 22}" stroke="{hair}" stroke-width="5" fill="none" stroke-linecap="round"/>
    <path d="M{cx + 18} {eye_y - 22} Q{cx + 35} {eye_y - 30} {cx + 52} {eye_y - 22}" stroke="{hair}" stroke-width="5" fill="none" stroke-linecap="round"/>
    <path d="M{cx} {eye_y + 10} Q{cx - 8} {eye_y + 40} {cx + 4} {eye_y + 45}" stroke="#00000033" stroke-width="4" fill="none" stroke-linecap="round"/>
    <path d="M{cx - 28} {eye_y + 68} Q{cx} {eye_y + 84} {cx + 28} {eye_y + 68}" stroke="#a34a4a" stroke-width="6" fill="none" stroke-linecap="round"/>
  </g>
  <text x="24" y="{height - 24}" font-family="Helvetica, Arial, sans-serif" font-size="20" fill="#ffffffcc">{escape(initials)} · digital twin</text>
</svg>
"""
