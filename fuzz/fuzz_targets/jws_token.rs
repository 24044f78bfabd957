//! A web identity token (compact JWS) verified against a key ring of both families (RSA and
//! P-256), both as a stranger's token and as one this process signed (the signature check
//! skipped); the input as the claims of a token signed by the ring, both ways; and a session
//! token opened.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tegata_core::master_key::MasterKey;
use tegata_core::random::SeededRandomness;
use tegata_core::sts::credentials::CredentialMinter;
use tegata_core::tokens::keys::{
    KeyRing, KeyState, SigningKey, TokenAlgorithm, generate_signing_key,
};
use tegata_core::tokens::recently_signed::RecentlySigned;
use tegata_core::tokens::verify::verify;

/// The ring, a credential minter, and the ring's P-256 key once more, to sign fuzzed payloads
/// with (a P-256 signature is cheap enough to make per input).
static KEYS: LazyLock<(KeyRing, CredentialMinter, SigningKey)> = LazyLock::new(|| {
    let rng = SeededRandomness::new(1);
    let master = MasterKey::generate(&rng);
    let records = [TokenAlgorithm::Rs512, TokenAlgorithm::Es256].map(|algorithm| {
        generate_signing_key(&master, algorithm, KeyState::Active, 0, &rng).expect("a key")
    });
    let load = |record| SigningKey::load(record, &master).expect("a loaded key");
    let ring = KeyRing::new(records.iter().map(load).collect());
    (ring, CredentialMinter::new(&master), load(&records[1]))
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (ring, minter, es256) = &*KEYS;
    let issuer = "https://tokens.example.com";
    let recent = RecentlySigned::default();
    let _ = verify(&text, ring, issuer, 0, &recent);
    recent.remember(&text);
    let _ = verify(&text, ring, issuer, 0, &recent);
    // The input as the payload of a token really signed by a key of the ring: its claims are
    // read through the full check, then as a token signed here (the check skipped).
    let signed = es256.sign_jws_payload(data);
    let _ = verify(&signed, ring, issuer, 0, &recent);
    recent.remember(&signed);
    let _ = verify(&signed, ring, issuer, i64::MAX, &recent);
    let _ = minter.open("ASIAAAAAAAAAAAAAAAAA", &text);
});
