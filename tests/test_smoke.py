from tests.helpers import TEST_PASSWORD


def test_manager_signs_in_and_sees_only_their_book(client, auth, world):
    response = auth.login("rm_a")
    assert response.status_code == 302
    page = client.get("/book").get_data(as_text=True)
    assert "CA0001" in page and "CA0002" in page
    assert "CA0003" not in page and "CB0001" not in page
    assert TEST_PASSWORD not in page
