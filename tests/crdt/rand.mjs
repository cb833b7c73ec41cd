// A small seeded generator, so that a case is reproducible from (seed, case
// number) alone, whatever ran before it. xorshift32, seeded through an
// integer hash of both numbers (a zero state would stick at zero).
export class Rand {
  constructor (seed, stream = 0) {
    let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
    this.s = (h ^ (h >>> 16)) >>> 0 || 1
  }

  // uniform in [0, 1)
  next () {
    let x = this.s
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.s = x >>> 0
    return this.s / 4294967296
  }

  int (lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)) } // inclusive
  chance (p) { return this.next() < p }
  pick (list) { return list[this.int(0, list.length - 1)] }
  times (n, f) { return Array.from({ length: n }, f) }
  shuffle (list) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[list[i], list[j]] = [list[j], list[i]]
    }
    return list
  }
}
