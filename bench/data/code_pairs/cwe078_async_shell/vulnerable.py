import asyncio


async def thumbnail(path):
    proc = await asyncio.create_subprocess_shell(f"ffmpeg -i {path} -vframes 1 thumb.png")
    await proc.wait()
