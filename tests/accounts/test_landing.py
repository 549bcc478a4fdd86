from __future__ import annotations


def test_the_public_site_leads_to_sign_up_and_log_in(public_client):
    page = public_client.get("/").content.decode()

    assert 'href="/accounts/signup/"' in page and 'href="/login/"' in page
