from Crypto.Cipher import ARC4


def encrypt_blob(key, blob):
    return ARC4.new(key).encrypt(blob)
