"""Every kind of bad or unusual image gets a clear error or the right pixels."""

import numpy as np
import pytest
from PIL import Image

from core.exceptions import ApplicationError
from core.images import Preprocessing, image_to_tensor, open_image
from tests.classification.images import encode, jpeg

SPEC = Preprocessing(size=224, resize=256)


def _error_code(data: bytes) -> str:
    with pytest.raises(ApplicationError) as error:
        image_to_tensor(data, SPEC)
    assert error.value.status == 400
    assert str(error.value.message)
    return error.value.code


def test_a_jpeg_becomes_a_normalised_tensor():
    tensor = image_to_tensor(jpeg(), SPEC)
    assert tensor.shape == (1, 224, 224, 3)
    assert tensor.dtype == np.float32
    assert tensor.min() >= -1.0 and tensor.max() <= 1.0  # (x - 127) / 128


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"just some text, not an image", "not_an_image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "not_an_image"),
        (b"<!DOCTYPE html><html><body>hello</body></html>", "not_an_image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not_an_image"),
    ],
    ids=["empty", "text", "svg-renamed", "html-renamed", "pdf"],
)
def test_things_that_are_not_images(data, code):
    assert _error_code(data) == code


def test_truncated_jpeg():
    data = jpeg()
    assert _error_code(data[: len(data) // 2]) == "corrupt_image"


def test_decompression_bomb_is_refused_before_decoding():
    # 12000 x 12000 of one colour: tiny file, 144 megapixels.
    bomb = encode(Image.new("L", (12000, 12000)), "PNG", optimize=True)
    assert len(bomb) < 500_000
    assert _error_code(bomb) == "image_too_large"


def test_image_just_over_the_configured_limit(settings):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    assert _error_code(encode(Image.new("RGB", (101, 100)), "PNG")) == "image_too_large"
    assert image_to_tensor(encode(Image.new("RGB", (100, 100)), "PNG"), SPEC).shape[1] == 224


def test_unsupported_format_is_named():
    data = encode(Image.new("RGB", (20, 20)), "ICO")
    assert _error_code(data) == "unsupported_format"


def test_animated_gif_uses_the_first_frame():
    red = Image.new("RGB", (64, 64), (255, 0, 0))
    blue = Image.new("RGB", (64, 64), (0, 0, 255))
    data = encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    image = open_image(data)
    assert image.mode == "RGB"
    r, _g, b = image.getpixel((32, 32))
    assert r > 200 and b < 50


def test_cmyk_jpeg_becomes_rgb():
    data = encode(Image.new("CMYK", (50, 40), (0, 255, 255, 0)), "JPEG")  # red in CMYK
    image = open_image(data)
    assert image.mode == "RGB"
    r, g, b = image.getpixel((25, 20))
    assert r > 200 and g < 60 and b < 60


def test_sixteen_bit_png_is_scaled_not_clipped():
    array = np.full((30, 30), 32768, dtype=np.uint16)  # mid-grey in 16 bits
    image16 = Image.fromarray(array)
    assert image16.mode == "I;16"
    data = encode(image16, "PNG")
    r, g, b = open_image(data).getpixel((15, 15))
    assert 120 <= r <= 135 and r == g == b


def test_transparent_png_becomes_white_where_transparent():
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    rgba.paste((0, 128, 0, 255), (0, 0, 10, 20))
    image = open_image(encode(rgba, "PNG"))
    assert image.getpixel((15, 10)) == (255, 255, 255)
    assert image.getpixel((5, 10)) == (0, 128, 0)


def test_palette_with_transparency():
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (0, 0, 5, 10))
    image = open_image(encode(palette, "PNG", transparency=0))
    assert image.getpixel((8, 5)) == (255, 255, 255)
    assert image.getpixel((2, 5)) == (255, 0, 0)


def test_exif_orientation_is_applied():
    wide = Image.new("RGB", (80, 40), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = open_image(encode(wide, "JPEG", exif=exif.tobytes()))
    assert image.size == (40, 80)


def test_big_jpeg_is_decoded_at_reduced_scale():
    big = jpeg(4000, 3000)
    image = open_image(big, draft_size=256)
    # libjpeg's 1/8 scale gives 500 x 375: still >= 256 on the shorter side.
    assert image.size[0] < 4000 and min(image.size) >= 256
    full = open_image(big)
    assert full.size == (4000, 3000)


def test_resize_and_centre_crop_keep_the_middle():
    # Left third red, middle green, right third blue: the crop sees green.
    array = np.zeros((300, 900, 3), dtype=np.uint8)
    array[:, :300] = (255, 0, 0)
    array[:, 300:600] = (0, 255, 0)
    array[:, 600:] = (0, 0, 255)
    tensor = image_to_tensor(encode(Image.fromarray(array), "PNG"), SPEC)
    centre = tensor[0, 112, 112] * 128 + 127
    assert centre[1] > 250 and centre[0] < 5 and centre[2] < 5


def test_other_normalisation_from_the_spec():
    spec = Preprocessing(size=32, resize=32, mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0))
    tensor = image_to_tensor(encode(Image.new("RGB", (32, 32), (255, 0, 51)), "PNG"), spec)
    assert np.allclose(tensor[0, 0, 0], [1.0, 0.0, 0.2])


def test_preprocessing_from_a_model_spec():
    spec = Preprocessing.from_spec({"crop_fraction": 0.875, "mean": [1, 2, 3]}, size=240)
    assert spec.resize == 274 and spec.mean == (1.0, 2.0, 3.0)
    assert Preprocessing.from_spec({"resize": 100}, size=224).resize == 224


def test_damaged_pixel_data_behind_a_good_header():
    data = bytearray(encode(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG"))
    # Corrupt the IDAT chunk's payload: the header is fine, decoding is not.
    start = data.index(b"IDAT") + 8
    data[start : start + 10] = b"\x00" * 10
    assert _error_code(bytes(data)) == "corrupt_image"


# Bounded decoding: what comes back is only as large as needed
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode",
    ["L", "RGB", "RGBA", "P", "1", "I;16", "LA"],
)
def test_big_images_of_every_mode_come_back_reduced_with_their_colours(mode):
    colour = Image.new("RGB", (2000, 1200), (200, 40, 40))
    source = colour.convert(mode, dither=Image.Dither.NONE)
    image = open_image(encode(source, "PNG"), draft_size=256)
    assert image.mode == "RGB"
    # The largest whole factor that keeps the shorter side >= 256: 1200 // 256 = 4.
    assert image.size == (500, 300)
    if mode != "I;16":  # (8-bit values read as 16-bit are dark; grey and even is enough)
        expected = np.asarray(source.convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
        assert np.allclose(image.getpixel((250, 150)), expected, atol=3)
    assert image.getpixel((10, 10)) == image.getpixel((490, 290))


def test_reduction_keeps_the_exif_orientation():
    tall = Image.new("RGB", (2000, 1000), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = open_image(encode(tall, "PNG", exif=exif.tobytes()), draft_size=256)
    assert image.size == (334, 667)  # reduced by 3 (rounding up), then turned upright


def test_sixteen_bit_images_do_not_need_a_float_copy():
    import tracemalloc

    # 16-bit greyscale at full range: the high byte, not a float64 array four
    # times the picture (numpy's allocations are traced; Pillow's are not).
    array = np.full((2000, 2000), 65535, dtype=np.uint16)  # 8 MB as 16-bit
    data = encode(Image.fromarray(array), "PNG")
    tracemalloc.start()
    try:
        image = open_image(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert image.getpixel((5, 5)) == (255, 255, 255)
    assert peak < 24 * 2**20, peak  # a float64 copy alone would be 32 MB


def test_a_request_has_a_pixel_budget_counted_at_the_decoded_size(settings):
    from core.images import PixelBudget

    settings.UPLOAD_MAX_REQUEST_PIXELS = 1_000_000
    budget = PixelBudget()
    big = jpeg(4000, 3000)  # 12 MP, decoded at 1/8: 500 x 375
    for _ in range(5):
        open_image(big, draft_size=256, budget=budget)
    assert budget.spent == 5 * 500 * 375
    with pytest.raises(ApplicationError) as error:
        open_image(big, draft_size=256, budget=budget)
    assert (error.value.code, error.value.status) == ("too_many_pixels", 413)
    png = encode(Image.new("L", (1200, 1000)), "PNG")  # PNG decodes whole: 1.2 MP
    with pytest.raises(ApplicationError):
        open_image(png, draft_size=256, budget=PixelBudget())
