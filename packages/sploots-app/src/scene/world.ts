/**
 * The three.js scene: a blobby creature that pulses when a message arrives, with one small moon
 * per connected peer (you and each agent) orbiting it.
 */
import {
  AmbientLight,
  Color,
  DirectionalLight,
  Group,
  IcosahedronGeometry,
  Mesh,
  MeshStandardMaterial,
  PerspectiveCamera,
  PointLight,
  Scene,
  SphereGeometry,
  WebGLRenderer,
} from 'three';

const PEER_COLOURS = [0xffca28, 0xc792ea, 0x82aaff, 0xff6e6e, 0x4ee28c, 0xffd866];

export class World {
  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(40, 1, 0.1, 100);
  private readonly creature: Group;
  private readonly body: Mesh<IcosahedronGeometry, MeshStandardMaterial>;
  private readonly peers = new Group();
  private readonly peerGeometry = new SphereGeometry(0.14, 16, 12);
  private readonly observer: ResizeObserver;
  private energy = 0;
  private frame = 0;
  private last = performance.now();
  private t = 0;

  constructor(
    private readonly host: HTMLElement,
    canvas: HTMLCanvasElement,
    context: WebGL2RenderingContext,
  ) {
    this.renderer = new WebGLRenderer({ canvas, context, antialias: true, alpha: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.setClearColor(new Color(0x000000), 0);
    this.camera.position.set(0, 0.6, 5.2);
    this.camera.lookAt(0, 0, 0);

    this.scene.add(new AmbientLight(0x8899bb, 0.9));
    const key = new DirectionalLight(0xffffff, 2.2);
    key.position.set(3, 4, 5);
    this.scene.add(key);
    const rim = new PointLight(0x21c7a8, 12, 20);
    rim.position.set(-3, -1, -2);
    this.scene.add(rim);

    this.creature = new Group();
    this.body = new Mesh(
      new IcosahedronGeometry(1, 2),
      new MeshStandardMaterial({ color: 0x21c7a8, emissive: 0x0b4f45, roughness: 0.45, metalness: 0.1, flatShading: true }),
    );
    this.creature.add(this.body);
    const eyeGeometry = new SphereGeometry(0.13, 16, 12);
    const eyeMaterial = new MeshStandardMaterial({ color: 0x0b0f16, roughness: 0.2 });
    for (const x of [-0.32, 0.32]) {
      const eye = new Mesh(eyeGeometry, eyeMaterial);
      eye.position.set(x, 0.25, 0.9);
      this.creature.add(eye);
    }
    this.scene.add(this.creature);
    this.scene.add(this.peers);

    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(host);
    this.resize();
    this.frame = requestAnimationFrame(this.tick);
  }

  /** A message arrived. */
  pulse(): void {
    this.energy = Math.min(1.5, this.energy + 1);
  }

  /** One moon per connected peer. */
  setPeers(count: number): void {
    while (this.peers.children.length < count) {
      const i = this.peers.children.length;
      const colour = PEER_COLOURS[i % PEER_COLOURS.length]!;
      const moon = new Mesh(this.peerGeometry, new MeshStandardMaterial({ color: colour, emissive: colour, emissiveIntensity: 0.35 }));
      this.peers.add(moon);
    }
    while (this.peers.children.length > count) {
      const moon = this.peers.children[this.peers.children.length - 1] as Mesh<SphereGeometry, MeshStandardMaterial>;
      this.peers.remove(moon);
      moon.material.dispose();
    }
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
    this.scene.traverse((o) => {
      if (o instanceof Mesh) {
        o.geometry.dispose();
        (Array.isArray(o.material) ? o.material : [o.material]).forEach((m: MeshStandardMaterial) => m.dispose());
      }
    });
    this.renderer.dispose();
  }

  private resize(): void {
    const w = Math.max(1, this.host.clientWidth);
    const h = Math.max(1, this.host.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  private readonly tick = (now: number): void => {
    this.frame = requestAnimationFrame(this.tick);
    const dt = Math.min(0.1, (now - this.last) / 1000);
    this.last = now;
    this.t += dt;
    this.energy *= Math.exp(-dt * 3);

    const breathe = 1 + Math.sin(this.t * 2) * 0.03;
    const s = breathe + this.energy * 0.25;
    this.creature.scale.set(s, s * (1 - this.energy * 0.08), s);
    this.creature.position.y = Math.sin(this.t * 1.3) * 0.08;
    this.creature.rotation.y = Math.sin(this.t * 0.5) * 0.5;
    this.body.rotation.x = this.t * 0.15;
    this.body.material.emissiveIntensity = 0.6 + this.energy * 2.5;

    const n = this.peers.children.length;
    this.peers.children.forEach((moon, i) => {
      const a = this.t * 0.6 + (i / Math.max(1, n)) * Math.PI * 2;
      moon.position.set(Math.cos(a) * 1.9, Math.sin(a * 2) * 0.25 + 0.1, Math.sin(a) * 1.9);
    });
    this.renderer.render(this.scene, this.camera);
  };
}
