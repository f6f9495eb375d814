import Testing
@testable import dualpipe

/// Which `revision` texts name one program: the sources' fingerprints decide where both texts carry
/// one, whatever git called the builds; the whole text otherwise.
@Suite struct BuildIdentityTests {
    @Test func theSourcesDecideOverGitsName() {
        let tagged = "v1.0 (committed 2026-12-05), sources 0123456789ab"
        let untagged = "1b231b883f24 (committed 2026-12-05), sources 0123456789ab"
        let tarball = "unknown revision (built outside a git checkout), sources 0123456789ab"
        #expect(Build.same(tagged, untagged))
        #expect(Build.same(untagged, tarball))
        let edited = "1b231b883f24-dirty (committed 2026-12-05), sources 0123456789ab"
        let editedAgain = "1b231b883f24-dirty (committed 2026-12-05), sources ba9876543210"
        #expect(!Build.same(edited, editedAgain))
    }

    @Test func withoutTwoFingerprintsTheWholeTextDecides() {
        let older = "1b231b883f24 (committed 2026-12-05)"
        let newer = "1b231b883f24 (committed 2026-12-05), sources 0123456789ab"
        #expect(Build.same(older, older))
        #expect(!Build.same(older, newer))
        let unfingerprinted = "unknown revision (built outside a git checkout), sources unknown"
        #expect(!Build.same(unfingerprinted, "1b231b883f24 (committed 2026-12-05), sources unknown"))
        #expect(Build.same(unfingerprinted, unfingerprinted))
    }

    @Test func aFingerprintIsTwelveHexDigitsAtTheEnd() {
        #expect(Build.sources(of: "x (committed 2026-12-05), sources 0123456789ab") == "0123456789ab")
        #expect(Build.sources(of: "x (committed 2026-12-05), sources unknown") == nil)
        #expect(Build.sources(of: "x (committed 2026-12-05), sources 0123456789") == nil)
        #expect(Build.sources(of: "x (committed 2026-12-05)") == nil)
        #expect(Build.sources(of: Build.revision) != nil, "this build has no fingerprint: \(Build.revision)")
        #expect(Build.same(Build.revision, Build.revision))
    }
}
