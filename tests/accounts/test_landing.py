from __future__ import annotations


def test_the_public_site_leads_to_sign_up_and_log_in(public_client):
    page = public_client.get("/").content.decode()

    assert 'href="/accounts/signup/"' in page and 'href="/login/"' in page


def test_the_health_check_answers_ok_on_the_public_host(public_client):
    response = public_client.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_health_check_is_not_on_workspace_hosts(client_a):
    assert client_a.get("/healthz").status_code == 404
