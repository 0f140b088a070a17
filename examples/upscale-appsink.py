#!/usr/bin/env python3
"""Embedding espcnupscale from Python (PyGObject): a test pattern is upscaled
and the frames are taken from an appsink.

    upscale-appsink.py [MODEL] [FRAMES]

Exit status 0 when every frame came out at the model's scale, 1 on an error
(printed from the bus message), 77 when PyGObject or GStreamer's typelib is
missing (Debian: apt-get install python3-gi gir1.2-gstreamer-1.0).
"""
import sys

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError) as e:
    print(f"SKIP: PyGObject with GStreamer is not available ({e}); "
          "install python3-gi and gir1.2-gstreamer-1.0", file=sys.stderr)
    sys.exit(77)

IN_WIDTH, IN_HEIGHT = 160, 120


def bus_error(pipeline):
    """The pipeline's error message as text, or None."""
    msg = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
    if msg is None:
        return None
    err, debug = msg.parse_error()
    return f"error from {msg.src.get_name()}: {err.message}\n{debug or ''}"


def make(factory, name):
    element = Gst.ElementFactory.make(factory, name)
    if element is None:
        sys.exit(f"no element {factory}: is GST_PLUGIN_PATH set (meson devenv, or the plugin installed)?")
    return element


def main():
    Gst.init(None)
    model = sys.argv[1] if len(sys.argv) > 1 else None
    frames = int(sys.argv[2]) if len(sys.argv) > 2 else 5

    pipeline = Gst.Pipeline.new("upscale")
    src = make("videotestsrc", "src")
    caps = make("capsfilter", "in-size")
    upscale = make("espcnupscale", "upscale")
    sink = make("appsink", "sink")
    src.set_property("num-buffers", frames)
    caps.set_property("caps", Gst.Caps.from_string(
        f"video/x-raw,format=RGB,width={IN_WIDTH},height={IN_HEIGHT}"))
    if model is not None:
        upscale.set_property("model", model)
    sink.set_property("sync", False)
    for e in (src, caps, upscale, sink):
        pipeline.add(e)
    src.link(caps)
    caps.link(upscale)
    upscale.link(sink)

    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print(bus_error(pipeline) or "the pipeline did not start", file=sys.stderr)
        pipeline.set_state(Gst.State.NULL)
        return 1
    scale = int(upscale.get_property("scale"))
    print(f"model {upscale.get_property('model')}: x{scale}, {upscale.get_property('quantization-method')}")

    got, status = 0, 0
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        s = sample.get_caps().get_structure(0)
        w, h = s.get_value("width"), s.get_value("height")
        print(f"frame {got}: {w}x{h}, {sample.get_buffer().get_size()} bytes")
        if (w, h) != (IN_WIDTH * scale, IN_HEIGHT * scale):
            status = 1
        got += 1
    error = bus_error(pipeline)
    if error is not None:
        print(error, file=sys.stderr)
        status = 1
    elif got != frames:
        status = 1
    pipeline.set_state(Gst.State.NULL)
    print(f"{got} frames")
    return status


if __name__ == "__main__":
    sys.exit(main())
