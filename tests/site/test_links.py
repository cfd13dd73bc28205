"""URLs and export paths: readable where safe, never a scheme, a host or a way out."""

from __future__ import annotations

from doctown.site.links import ServerLinks, StaticLinks, StaticPaths, depth_of, url_part


def test_server_urls_keep_ids_readable_and_encode_the_rest() -> None:
    links = ServerLinks("/packs/x/")
    assert links.symbol("src/app.py::Client.send") == "/packs/x/symbol/src/app.py::Client.send"
    assert links.file("src/a b.py") == "/packs/x/file/src/a%20b.py"
    assert links.symbol("javascript:alert(1)") == "/packs/x/symbol/javascript:alert%281%29"
    # Dot and empty segments would be folded by a browser: the slashes are encoded instead.
    assert url_part("a/../b") == "a%2F..%2Fb"
    assert url_part("//evil.example/x") == "%2F%2Fevil.example%2Fx"
    assert ServerLinks().home() == "/"


def test_static_paths_are_safe_unique_and_stable() -> None:
    ids = ["src/app.py::Client.send", "src/App.py::Client.send", "py:<b>", "../../etc/passwd"]
    files = ["src/app.py", "src/App.py", "../up.py", "a/<b>.py"]
    paths = StaticPaths(ids, files, ["c1", "C1"])
    pages = [paths.symbol(i) for i in ids] + [paths.file(f) for f in files]
    pages += [paths.cluster("c1"), paths.cluster("C1")]
    assert len({page.lower() for page in pages}) == len(pages)  # unique on any disk
    for page in pages:
        assert ".." not in page.split("/") and ":" not in page and "<" not in page
    assert paths.file("src/app.py").startswith("file/src/app.py-")  # case twin: hashed
    assert StaticPaths(ids[:1], ["src/app.py"], []).file("src/app.py") == "file/src/app.py.html"
    assert StaticPaths(ids[:1], [], []).symbol(ids[0]) == "symbol/src.app.py.Client.send.html"
    again = StaticPaths(reversed(ids), reversed(files), ["C1", "c1"])
    assert [again.symbol(i) for i in ids] == [paths.symbol(i) for i in ids]


def test_static_links_are_relative_to_the_page() -> None:
    paths = StaticPaths(["a.py::f"], ["pkg/deep/a.py"], [])
    page = paths.file("pkg/deep/a.py")
    links = StaticLinks(paths, depth=depth_of(page))
    assert links.symbol("a.py::f") == "../../../symbol/a.py.f.html"
    assert links.home() == "../../../index.html"
    assert StaticLinks(paths, depth=0).root() == "./"
