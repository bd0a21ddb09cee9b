import asyncio


async def thumbnail(path):
    proc = await asyncio.create_subprocess_exec("ffmpeg", "-i", path, "-vframes", "1",
                                                "thumb.png")
    await proc.wait()
