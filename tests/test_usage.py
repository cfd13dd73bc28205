from doctown.usage import Usage, total


def test_usage_adds_field_by_field() -> None:
    a = Usage(input_tokens=10, cached_tokens=2, output_tokens=5, reasoning_tokens=1, requests=1)
    b = Usage(input_tokens=3, cached_tokens=0, output_tokens=7, reasoning_tokens=4, requests=2)
    assert a + b == Usage(13, 2, 12, 5, 3)
    assert total([a, b, Usage()]) == a + b
    assert (a + b).total_tokens == 25
