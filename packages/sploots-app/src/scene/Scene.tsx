/** Lazy-loaded (three.js is large): the creature. Without WebGL it draws a static one instead. */
import { useEffect, useRef, useState } from 'react';
import { useConversation } from '../store/context.tsx';
import { StaticCreature } from './StaticCreature.tsx';
import { tryWebGL2 } from './webgl.ts';
import { World } from './world.ts';

export default function SceneView() {
  const host = useRef<HTMLDivElement>(null);
  const world = useRef<World | null>(null);
  const { pulse, agents } = useConversation();
  const [fallback, setFallback] = useState(false);
  const peers = agents.length + 1; // the agents, and you

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const canvas = document.createElement('canvas');
    canvas.className = 'scene-canvas';
    const gl = tryWebGL2(canvas);
    if (!gl) {
      setFallback(true);
      return;
    }
    try {
      el.appendChild(canvas);
      world.current = new World(el, canvas, gl);
    } catch {
      canvas.remove();
      setFallback(true);
      return;
    }
    return () => {
      world.current?.dispose();
      world.current = null;
      canvas.remove();
    };
  }, []);

  useEffect(() => {
    if (pulse > 0) world.current?.pulse();
  }, [pulse]);
  useEffect(() => world.current?.setPeers(peers), [peers]);

  return (
    <div className="scene" ref={host} data-testid="scene" data-renderer={fallback ? 'static' : 'webgl'} aria-hidden="true">
      {fallback && <StaticCreature pulse={pulse} peers={peers} />}
    </div>
  );
}
