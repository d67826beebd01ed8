/** The creature in plain SVG + CSS, for browsers without WebGL (and while three.js loads). */
export function StaticCreature({ pulse, peers }: { pulse: number; peers: number }) {
  const moons = Array.from({ length: Math.min(peers, 8) }, (_, i) => i);
  return (
    <svg className="creature-static" viewBox="-100 -70 200 140" role="img" aria-label="Sploots creature">
      {/* A new key restarts the CSS pulse animation on every message. */}
      <g key={pulse} className={pulse > 0 ? 'creature-pulse' : undefined}>
        <ellipse cx="0" cy="0" rx="42" ry="38" className="creature-body" />
        <circle cx="-13" cy="-8" r="5" className="creature-eye" />
        <circle cx="13" cy="-8" r="5" className="creature-eye" />
      </g>
      {moons.map((i) => {
        const a = (i / moons.length) * Math.PI * 2;
        return <circle key={i} cx={Math.cos(a) * 75} cy={Math.sin(a) * 22} r="6" className={`creature-moon moon-${i % 4}`} />;
      })}
    </svg>
  );
}
