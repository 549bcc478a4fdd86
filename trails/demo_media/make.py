"""Make the demo trail's pictures and audio guide (run by hand; the files it writes are committed).

    .venv/bin/python trails/demo_media/make.py

Pictures are drawn with Pillow; the audio guide is spoken by espeak-ng (Debian: apt-get install espeak-ng) and
encoded to MP3 with PyAV (requirements-dev.txt). Neither tool is needed to run QRCards: only the output is.
"""

from __future__ import annotations

import io
import math
import random
import subprocess
import wave
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1600, 1067
CLOCK_TOWER_GUIDE = (
    "The Clock Tower. Look up at the clock face: it is twelve minutes slow, and has been since the winter of "
    "eighteen ninety-three. That winter the river froze, a ferry broke loose, and the clock's iron weights were "
    "borrowed to anchor it. They came back a little lighter. Nobody has corrected the clock since: "
    "locals say the town runs on tower time."
)


def sky(draw: ImageDraw.ImageDraw, top: tuple[int, int, int], bottom: tuple[int, int, int], height: int) -> None:
    for y in range(height):
        t = y / height
        draw.line((0, y, WIDTH, y), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))


def cobbles(draw: ImageDraw.ImageDraw, top: int, rng: random.Random) -> None:
    draw.rectangle((0, top, WIDTH, HEIGHT), fill=(150, 140, 125))
    y, row = top, 0
    while y < HEIGHT:
        size = 18 + (y - top) // 8  # larger towards the viewer
        x = -(row % 2) * size // 2
        while x < WIDTH:
            shade = rng.randint(-22, 22)
            draw.rounded_rectangle(
                (x + 2, y + 2, x + size - 2, y + size * 0.6 - 2),
                radius=size // 5,
                fill=(160 + shade, 150 + shade, 132 + shade),
            )
            x += size
        y += int(size * 0.6)
        row += 1


def houses(draw: ImageDraw.ImageDraw, ground: int, rng: random.Random) -> None:
    x = -40
    colours = [(214, 180, 140), (190, 120, 90), (232, 214, 170), (170, 160, 150), (205, 150, 110)]
    while x < WIDTH:
        width, height = rng.randint(180, 280), rng.randint(260, 420)
        wall = rng.choice(colours)
        draw.rectangle((x, ground - height, x + width, ground), fill=wall, outline=(90, 70, 60), width=3)
        draw.polygon(
            [(x - 12, ground - height), (x + width // 2, ground - height - 110), (x + width + 12, ground - height)],
            fill=(120, 55, 40),
        )
        for row in range(ground - height + 40, ground - 90, 95):
            for column in range(x + 25, x + width - 50, 70):
                draw.rectangle(
                    (column, row, column + 40, row + 55), fill=(60, 75, 95), outline=(240, 235, 220), width=4
                )
        x += width + rng.randint(0, 20)


def fountain() -> Image.Image:
    rng = random.Random(1820)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    sky(draw, (120, 170, 225), (225, 235, 245), 700)
    houses(draw, 700, rng)
    cobbles(draw, 700, rng)
    stone, dark = (205, 195, 170), (120, 110, 95)
    centre = WIDTH // 2
    # The basin, an octagon seen from the side, with water in it.
    draw.ellipse((centre - 420, 760, centre + 420, 900), fill=(110, 105, 95))
    draw.rectangle((centre - 420, 700, centre + 420, 830), fill=stone, outline=dark, width=4)
    draw.ellipse((centre - 420, 640, centre + 420, 760), fill=stone, outline=dark, width=4)
    draw.ellipse((centre - 390, 655, centre + 390, 745), fill=(70, 130, 170))
    for panel in range(-3, 4):
        draw.line((centre + panel * 120, 705, centre + panel * 120, 828), fill=dark, width=3)
    # The column and its bowl.
    draw.rectangle((centre - 45, 420, centre + 45, 700), fill=stone, outline=dark, width=4)
    draw.ellipse((centre - 170, 380, centre + 170, 450), fill=stone, outline=dark, width=4)
    draw.ellipse((centre - 150, 388, centre + 150, 430), fill=(80, 140, 180))
    draw.rectangle((centre - 20, 300, centre + 20, 400), fill=stone, outline=dark, width=3)
    draw.ellipse((centre - 35, 270, centre + 35, 320), fill=stone, outline=dark, width=3)
    # Water falling from the bowl into the basin, and rising from the top.
    for side in (-1, 1):
        for step in range(6):
            start = centre + side * (150 + step * 6)
            draw.arc(
                (min(start, start + side * 260), 400 + step * 8, max(start, start + side * 260), 760),
                start=180 if side < 0 else 270,
                end=270 if side < 0 else 360,
                fill=(190, 220, 240),
                width=5,
            )
    for step in range(5):
        draw.arc((centre - 90 + step * 6, 210, centre + 90 - step * 6, 420), 180, 360, fill=(200, 228, 245), width=4)
    # The mason's mark, a small anchor, on the basin.
    draw.line((centre + 250, 745, centre + 250, 795), fill=dark, width=5)
    draw.arc((centre + 225, 765, centre + 275, 805), 0, 180, fill=dark, width=5)
    draw.line((centre + 238, 755, centre + 262, 755), fill=dark, width=5)
    return image.filter(ImageFilter.SMOOTH)


def clock_tower() -> Image.Image:
    rng = random.Random(1893)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    sky(draw, (240, 170, 110), (250, 225, 180), 820)  # late afternoon
    houses(draw, 820, rng)
    cobbles(draw, 820, rng)
    brick, dark = (170, 95, 70), (90, 45, 35)
    left, right = WIDTH // 2 - 150, WIDTH // 2 + 150
    draw.rectangle((left, 170, right, 820), fill=brick, outline=dark, width=5)
    for y in range(190, 820, 28):  # courses of brick
        draw.line((left, y, right, y), fill=(150, 80, 60), width=2)
    draw.polygon([(left - 25, 170), (WIDTH // 2, 10), (right + 25, 170)], fill=(70, 90, 85), outline=dark)
    draw.rectangle((WIDTH // 2 - 55, 690, WIDTH // 2 + 55, 820), fill=(80, 50, 35))  # the door
    draw.pieslice((WIDTH // 2 - 55, 640, WIDTH // 2 + 55, 740), 180, 360, fill=(80, 50, 35))
    # The clock face, at ten to three (and twelve minutes slow, as the guide says).
    cx, cy, radius = WIDTH // 2, 330, 110
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(245, 240, 225), outline=dark, width=8)
    for hour in range(12):
        angle = math.radians(hour * 30)
        inner, outer = radius - 22, radius - 8
        draw.line(
            (
                cx + inner * math.sin(angle),
                cy - inner * math.cos(angle),
                cx + outer * math.sin(angle),
                cy - outer * math.cos(angle),
            ),
            fill=dark,
            width=6,
        )
    for length, angle, width in ((60, math.radians(85), 10), (90, math.radians(288), 6)):
        draw.line(
            (cx, cy, cx + length * math.sin(angle), cy - length * math.cos(angle)), fill=(30, 30, 30), width=width
        )
    draw.ellipse((cx - 9, cy - 9, cx + 9, cy + 9), fill=(30, 30, 30))
    for window in (480, 560):
        draw.rectangle((cx - 30, window, cx + 30, window + 50), fill=(50, 60, 80), outline=(230, 220, 200), width=4)
    return image.filter(ImageFilter.SMOOTH)


def bridge() -> Image.Image:
    rng = random.Random(1774)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    sky(draw, (110, 160, 210), (215, 230, 240), 600)
    for x in range(-100, WIDTH, 140):  # willows on the far bank
        draw.ellipse((x, 380 + rng.randint(-30, 30), x + 220, 640), fill=(70 + rng.randint(0, 30), 120, 60))
    draw.rectangle((0, 600, WIDTH, HEIGHT), fill=(60, 110, 140))  # the river
    for _ in range(140):  # ripples
        x, y = rng.randint(0, WIDTH), rng.randint(640, HEIGHT)
        draw.line((x, y, x + rng.randint(20, 70), y), fill=(120, 170, 195), width=3)
    stone, dark = (190, 175, 150), (100, 90, 75)
    draw.rectangle((0, 470, WIDTH, 560), fill=stone, outline=dark, width=4)  # the deck
    draw.rectangle((0, 440, WIDTH, 470), fill=(170, 155, 130), outline=dark, width=3)  # the parapet
    span = WIDTH // 5
    for arch in range(5):  # five arches, each a little different
        left = arch * span
        rise = 150 + (arch % 3) * 25
        draw.rectangle((left, 560, left + span, 720), fill=stone, outline=dark, width=4)
        opening = (left + 30, 720 - rise, left + span - 30, 720 + rise)  # a round arch down to the water
        draw.pieslice(opening, 180, 360, fill=(40, 80, 105), outline=dark, width=4)
        for y in range(575, 720, 30):
            draw.line((left, y, left + 30, y), fill=dark, width=2)
    face = (3 * span + span // 2, 530)  # the carved face, on the fourth arch
    draw.ellipse((face[0] - 26, face[1] - 26, face[0] + 26, face[1] + 26), fill=(170, 160, 135), outline=dark, width=3)
    draw.ellipse((face[0] - 12, face[1] - 8, face[0] - 4, face[1]), fill=dark)
    draw.ellipse((face[0] + 4, face[1] - 8, face[0] + 12, face[1]), fill=dark)
    draw.arc((face[0] - 12, face[1] - 4, face[0] + 12, face[1] + 14), 20, 160, fill=dark, width=3)
    return image.filter(ImageFilter.SMOOTH)


def spoken(text: str) -> bytes:
    """`text` spoken by espeak-ng, as MP3 (mono, 32 kbit/s: a voice needs no more)."""
    import av

    command = ["espeak-ng", "-v", "en-gb", "-s", "150", "--stdout", text]  # found on PATH, as Debian installs it
    speech = subprocess.run(command, check=True, capture_output=True).stdout  # noqa: S603 - our own text
    with wave.open(io.BytesIO(speech)) as source:
        rate, frames = source.getframerate(), source.readframes(source.getnframes())
    output = io.BytesIO()
    with av.open(output, "w", format="mp3") as file:
        stream = file.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = 32_000
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(frames) // 2)
        frame.planes[0].update(frames)
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            file.mux(packet)
        for packet in stream.encode(None):
            file.mux(packet)
    return output.getvalue()


def main() -> None:
    for name, draw in (("fountain.jpg", fountain), ("clock-tower.jpg", clock_tower), ("bridge.jpg", bridge)):
        draw().save(HERE / name, "JPEG", quality=84, optimize=True, progressive=True)
    (HERE / "clock-tower-guide.mp3").write_bytes(spoken(CLOCK_TOWER_GUIDE))
    for path in sorted(HERE.iterdir()):
        if path.suffix in (".jpg", ".mp3"):
            print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
