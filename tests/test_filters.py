"""Image-filtering kernels (REFERENCE.md section 2) and ``cnnbp filter``."""

import os

import numpy as np
import pytest

from cnnbp import filters
from cnnbp.cli import main


def step_down_columns(h=10, w=10, low=0.0, high=100.0):
    """Rows 0..h/2-1 are ``low``, the rest ``high``: one horizontal edge."""
    img = np.full((h, w), low)
    img[h // 2:] = high
    return img


def step_along_rows(h=10, w=10, low=0.0, high=100.0):
    """Columns 0..w/2-1 are ``low``, the rest ``high``: one vertical edge."""
    return step_down_columns(w, h, low, high).T.copy()


# -- the kernels --------------------------------------------------------------------------------
def test_identity_leaves_grey_rgb_and_float_images_unchanged():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(7, 9), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    flt = rng.normal(size=(4, 8))
    np.testing.assert_array_equal(filters.apply(grey, "identity"), grey)
    np.testing.assert_array_equal(filters.apply(rgb, "identity"), rgb)
    np.testing.assert_array_equal(filters.apply(flt, "identity"), flt)
    assert filters.apply(grey, "identity").dtype == np.uint8


def test_worked_example_of_the_reference_inside_same_padding():
    image = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3],
                      [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]], dtype=float)
    kernel = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)
    out = filters.apply(image, kernel)
    np.testing.assert_array_equal(out[1:-1, 1:-1], [[12, 12, 17], [10, 17, 19], [9, 6, 14]])


def test_sharpen_adds_eight_times_the_difference_from_the_neighbours():
    img = step_along_rows(low=50.0, high=150.0)
    out = filters.apply(img, "sharpen")
    assert out[4, 2] == 50.0                     # flat: 9*50 - 8*50
    assert out[4, 4] == 9 * 50 - (3 * 50 + 2 * 50 + 3 * 150)    # dark side of the edge: -250
    assert out[4, 5] == 9 * 150 - (3 * 50 + 2 * 150 + 3 * 150)  # bright side: 450
    assert out[0, 2] == 9 * 50 - 5 * 50          # corner rows see zero padding
    clipped = filters.apply(img.astype(np.uint8), "sharpen")
    assert (clipped[4, 4], clipped[4, 5], clipped[4, 2]) == (0, 255, 50)


def test_sharpen_5x5_keeps_flat_regions():
    img = np.full((9, 9), 80.0)
    assert filters.apply(img, "sharpen_5x5")[4, 4] == pytest.approx(80.0)


def test_vertical_edge_kernel_responds_to_changes_down_a_column():
    out = filters.apply(step_down_columns(), "edge_vertical")
    # centre 4 at row 5 (100), minus rows 3, 4 (0) and rows 6, 7 (100)
    assert out[5, 5] == 4 * 100 - 2 * 100
    assert out[2, 5] == 0 and out[7, 5] == 0     # flat regions
    assert np.all(filters.apply(step_along_rows(), "edge_vertical")[2:-2, :] == 0)


def test_horizontal_edge_kernel_responds_to_changes_along_a_row():
    out = filters.apply(step_along_rows(), "edge_horizontal")
    # y[r, c] = -x[r, c-2] - x[r, c-1] + 2 x[r, c] (cross-correlation, no flip)
    assert out[5, 5] == 200 and out[5, 6] == 100 and out[5, 7] == 0 and out[5, 3] == 0
    assert np.all(filters.apply(step_down_columns(), "edge_horizontal")[:, 2:] == 0)


def test_45_degree_edge_kernel_ignores_flat_regions_and_answers_a_diagonal_edge():
    flat = filters.apply(np.full((9, 9), 7.0), "edge_45")
    assert flat[4, 4] == 0
    diagonal = np.triu(np.full((9, 9), 10.0))    # edge along the main diagonal
    out = filters.apply(diagonal, "edge_45")
    assert out[4, 4] == 0                        # along the edge the kernel sees one value
    anti = np.fliplr(diagonal)                   # edge across the kernel's direction
    assert filters.apply(anti, "edge_45")[4, 4] != 0


def test_emboss_turns_flat_regions_mid_grey():
    img = np.full((6, 6), 90, dtype=np.uint8)
    assert filters.apply(img, "emboss")[3, 3] == 128
    assert filters.apply(img, "emboss", offset=0)[3, 3] == 0


@pytest.mark.parametrize("name,params", [("box_blur", {}), ("box_blur", {"size": 5}),
                                         ("gaussian_blur", {}),
                                         ("gaussian_blur", {"size": 7, "sigma": 2.0})])
def test_blurs_sum_to_one_and_are_symmetric(name, params):
    k = filters.get_kernel(name, **params)
    assert k.shape == (params.get("size", 3 if name == "box_blur" else 5),) * 2
    assert k.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(k, k.T)
    np.testing.assert_allclose(k, k[::-1, ::-1])
    assert k[k.shape[0] // 2, k.shape[1] // 2] == k.max()


def test_rgb_channels_are_filtered_separately():
    grey = step_along_rows(low=10.0, high=200.0).astype(np.uint8)
    rgb = np.stack([grey, 255 - grey, np.zeros_like(grey)], axis=2)
    out = filters.apply(rgb, "gaussian_blur")
    assert out.shape == rgb.shape
    np.testing.assert_array_equal(out[:, :, 0], filters.apply(grey, "gaussian_blur"))
    np.testing.assert_array_equal(out[:, :, 2], 0)


def test_every_named_kernel_is_available_and_a_fresh_copy():
    for name in filters.kernel_names():
        k = filters.get_kernel(name)
        assert k.ndim == 2 and k.dtype == np.float64
    filters.get_kernel("sharpen")[1, 1] = 0
    assert filters.get_kernel("sharpen")[1, 1] == 9


def test_unknown_kernel_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown kernel 'blurr'.*sharpen.*gaussian_blur"):
        filters.get_kernel("blurr")


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 2)), np.zeros(5), np.zeros((2, 2, 2, 2))])
def test_bad_image_shapes_are_rejected(bad):
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        filters.apply(bad, "identity")


# -- the command line ------------------------------------------------------------------------------
@pytest.fixture
def png(tmp_path):
    from PIL import Image

    def write(array, name="in.png"):
        path = tmp_path / name
        Image.fromarray(array).save(path)
        return path

    return write


@pytest.mark.parametrize("colour", [False, True], ids=["grey", "rgb"])
def test_cli_writes_the_filtered_png(png, tmp_path, capsys, colour):
    from PIL import Image

    img = step_along_rows(low=20.0, high=180.0).astype(np.uint8)
    if colour:
        img = np.stack([img, img // 2, 255 - img], axis=2)
    src = png(img)
    out = tmp_path / "out.png"
    assert main(["filter", str(src), "--kernel", "sharpen", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with Image.open(out) as result:
        np.testing.assert_array_equal(np.asarray(result), filters.apply(img, "sharpen"))
    assert sorted(os.listdir(tmp_path)) == ["in.png", "out.png"]   # no temporary file left


def test_cli_blur_parameters(png, tmp_path):
    src = png(np.full((8, 8), 100, dtype=np.uint8))
    out = tmp_path / "blur.png"
    assert main(["filter", str(src), "-k", "gaussian_blur", "--size", "3", "--sigma", "0.5",
                 "-o", str(out)]) == 0
    assert out.exists()


def test_cli_lists_the_kernels(capsys):
    assert main(["filter", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in filters.kernel_names():
        assert name in listed


def _one_line_error(capsys, argv, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("cnnbp filter: error:"), err
    for f in fragments:
        assert f in err
    return err


def test_cli_unknown_kernel_is_a_one_line_error(png, tmp_path, capsys):
    src = png(np.zeros((4, 4), dtype=np.uint8))
    _one_line_error(capsys, ["filter", str(src), "--kernel", "nope", "-o", str(tmp_path / "o.png")],
                    "unknown kernel 'nope'", "sharpen")
    assert not (tmp_path / "o.png").exists()


def test_cli_unreadable_image_is_a_one_line_error(tmp_path, capsys):
    fake = tmp_path / "fake.png"
    fake.write_text("not an image\n")
    _one_line_error(capsys, ["filter", str(fake), "-o", str(tmp_path / "o.png")],
                    "cannot read image", "fake.png")
    _one_line_error(capsys, ["filter", str(tmp_path / "missing.png"), "-o", str(tmp_path / "o.png")],
                    "cannot read image", "missing.png")
    assert not (tmp_path / "o.png").exists()


def test_cli_unknown_output_extension_is_a_one_line_error(png, tmp_path, capsys):
    src = png(np.zeros((4, 4), dtype=np.uint8))
    _one_line_error(capsys, ["filter", str(src), "-o", str(tmp_path / "out.nope")],
                    "unknown image extension")
    assert sorted(os.listdir(tmp_path)) == ["in.png"]
