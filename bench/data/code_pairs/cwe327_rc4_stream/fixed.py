from Crypto.Cipher import AES


def encrypt_blob(key, blob):
    cipher = AES.new(key, AES.MODE_GCM)
    ciphertext, tag = cipher.encrypt_and_digest(blob)
    return cipher.nonce + tag + ciphertext
