from __future__ import annotations

import re


def test_the_public_site_leads_to_sign_up_and_log_in(public_client):
    page = public_client.get("/").content.decode()

    assert 'href="/accounts/signup/"' in page and 'href="/login/"' in page


def test_the_public_home_shows_a_card_and_a_phone_made_by_our_own_code(public_client):
    from trails.demo import DEMO_TRAIL

    page = public_client.get("/").content.decode()

    # The card's QR code is drawn by trails/qr.py (one path of dark modules); the phone shows the demo's first stop.
    assert re.search(r'<svg role="img" aria-label="The QR code of The Fountain, stop 1 of Old Town Walk"[^>]*>', page)
    assert re.search(r'<path fill="#000000" d="(M\d+ \d+h\d+v1h-\d+z)+"/>', page)
    first_stop = DEMO_TRAIL.read_text().split("## The Fountain {#fountain}\n", 1)[1]
    text = first_stop.split("\n\n", 1)[1].split(".", 1)[0]  # under the picture, which the sketch leaves out
    assert text.startswith("Built in 1820") and text in page
    assert "fountain.jpg" not in page
    assert "DEMO.QRCARDS.LOCALHOST · J6JF TU42" in page
    assert "How it works" in page and "Pricing" in page
